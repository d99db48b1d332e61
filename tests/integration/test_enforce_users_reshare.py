"""A user Marquee removed and the admin re-shared, with plex.tv keeping their acceptedAt, against the sandboxes:
a new membership that no old warning counts in, warned afresh (a new ledger key) before any second removal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.run.enforce import run_enforce
from tests.fixtures.enforce_sandbox import EnforceSandbox
from tests.fixtures.mail_drop import folder_for

NOTE = "idle 29d"  # warned on day 0, removed on day 4


@pytest.fixture
def sb(tmp_path):
    with EnforceSandbox(tmp_path) as sandbox:
        # Everyone else is a vip, so this user's timeline is the only one; the world's plays end at day 0.
        others = [u.username for u in sandbox.world.users if u.note != NOTE]
        sandbox.overrides.update({"users.vip": others, "users.quiet_days": 120})
        sandbox.ingest()
        yield sandbox


def run(sb):
    """Ingest, then `enforce --apply` for users, as the daemon does."""
    sb.ingest()
    with sb.store() as store:
        result = run_enforce(store, sb.settings(), sb.clock, apply=True, scope="users")
    assert result.failures == 0 and result.refusals == [], result.lines
    return result


def unshares(sb, uid: int) -> int:
    return sum(1 for m in sb.tv.mutations if m.user_id == uid)


def warning_keys(sb, uid: int) -> dict[str, object]:
    """Each warning e-mail sent to this user by ledger key: when it went out."""
    return dict(sb.query("SELECT message_key, finished_at FROM deliveries WHERE kind = 'warning' AND state = 'sent' "
                         "AND message_key LIKE ?", [f"warning-{uid}-%"]))


def mails(sb, key: str) -> int:
    return len(list((sb.tmp / "outbox" / folder_for(key)).glob("*.eml")))


def state(sb, uid: int) -> tuple:
    return sb.query("SELECT warned_at, removed_at, member_since FROM member_states WHERE user_id = ?", [uid])[0]


def test_a_re_shared_user_keeping_accepted_at_is_warned_afresh_before_a_second_removal(sb):
    u = sb.user(NOTE)
    accepted = u.accepted_at
    run(sb)  # day 0: warned
    (old_key,) = warning_keys(sb, u.user_id)
    sb.clock.advance(days=4)
    run(sb)  # day 4: removed by Marquee
    assert not u.has_share and unshares(sb, u.user_id) == 1

    # Day 6: the admin shares the server with them again; plex.tv keeps the friend's acceptedAt.
    sb.clock.advance(days=2)
    u.has_share = True
    relisted = sb.clock.now()
    run(sb)
    assert unshares(sb, u.user_id) == 1 and u.has_share  # not removed again on the old warning
    assert u.accepted_at == accepted
    assert sb.query("SELECT first_seen_at, removed_at FROM plex_users WHERE user_id = ?", [u.user_id]) == \
        [(relisted, None)]
    assert state(sb, u.user_id) == (None, None, relisted)  # the restart is stored at once

    # Runs go on; the restart is not forgotten, and nobody is warned or removed while the new clock runs.
    grace = timedelta(hours=sb.settings().users.grace_hours)
    warn_at = relisted + grace + timedelta(days=27)
    for _ in range(3):
        sb.clock.advance(days=8)
        run(sb)
        assert unshares(sb, u.user_id) == 1 and list(warning_keys(sb, u.user_id)) == [old_key]
    sb.clock.at = (warn_at - timedelta(hours=1))
    run(sb)
    assert list(warning_keys(sb, u.user_id)) == [old_key] and state(sb, u.user_id)[0] is None

    # Idle past warn_days in the new membership: a NEW warning e-mail, under a key of its own.
    sb.clock.at = warn_at
    run(sb)
    keys = warning_keys(sb, u.user_id)
    (new_key,) = set(keys) - {old_key}
    assert keys[new_key] == warn_at and mails(sb, new_key) == 1 and mails(sb, old_key) == 1
    assert state(sb, u.user_id) == (warn_at, None, relisted)

    # Removed only once the notice period (kick_days - warn_days) has run from the new warning.
    sb.clock.at = (warn_at + timedelta(days=3) - timedelta(hours=1))
    run(sb)
    assert unshares(sb, u.user_id) == 1 and u.has_share
    sb.clock.at = (warn_at + timedelta(days=3))
    run(sb)
    assert unshares(sb, u.user_id) == 2 and not u.has_share
    warned_at, removed_at, _ = state(sb, u.user_id)
    assert warned_at == warn_at and removed_at == warn_at + timedelta(days=3)
