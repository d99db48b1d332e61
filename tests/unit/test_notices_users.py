"""The lifecycle notices' typed contexts: each value keeps the name and the value policy gave it, up to the e-mail."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from email import policy as email_policy
from email.parser import BytesParser

import pytest

import pipeline.clients.plex_rows as plex_rows
from pipeline.act.users import UserRun, preview_users
from pipeline.clock import FixedClock, iso_day, utc_iso, utc_iso_seconds, utc_iso_z
from pipeline.notices.admin import Notifier
from pipeline.policy.users import Member, UserPolicy, decide_users
from pipeline.render.email.contexts import RemovalNotice, WarningNotice, WarningStats, WelcomeNotice
from pipeline.settings import load_settings
from pipeline.store.audit import Audit
from pipeline.store.db import memory_store

T0 = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
ALICE = 101


def store_with_alice():
    store = memory_store()
    row = dict(user_id=ALICE, username="alice", title="alice", email="alice@example.org", is_owner=False,
               is_home=False, is_restricted=False, share_id=9101, invited_at=T0 - 401 * DAY,
               accepted_at=T0 - 400 * DAY, pending=False, all_libraries=True, section_ids=[1])
    store.con.register("plex_user_rows", plex_rows.table([row], plex_rows.USER_SCHEMA))
    try:
        store.execute("ingest/merge_plex_users", {"now": T0 - 500 * DAY})
    finally:
        store.con.unregister("plex_user_rows")
    return store


def test_a_fractional_kick_days_reaches_the_warning_as_set(tmp_path):
    """users.kick_days = 30.5 reads '30.5 days' in the e-mail: settings -> policy -> plan -> notices -> render."""
    settings = load_settings(environ={}, dotenv_path=None, overrides={
        "users.warn_days": 27.5, "users.kick_days": 30.5, "email.outbox_dir": str(tmp_path / "outbox"),
        "email.from_address": "news@example.org", "server.timezone": "Europe/Berlin"})
    store, clock = store_with_alice(), FixedClock(T0)
    policy = UserPolicy.from_settings(settings)
    members = {ALICE: Member(ALICE, "alice", "alice@example.org", False, False, False, T0 - 400 * DAY,
                             T0 - 28.25 * DAY)}
    plan = decide_users(members.values(), {}, T0, policy, first_run=False, started_at=T0 - 100 * DAY)
    assert plan.for_user(ALICE).kind == "warn"
    run = UserRun(store, settings, clock, Audit(store, clock, applied=False),
                  Notifier(store, settings, clock, apply=False), policy, members, {})
    result = preview_users(run, plan, hold_back=False)
    assert result.lines == [f"dry run: 1 e-mail(s) written to {tmp_path / 'outbox'}/dry-run/ (1 warning)"]
    (eml,) = (tmp_path / "outbox" / "dry-run").glob("*/*.eml")
    text = BytesParser(policy=email_policy.default).parsebytes(eml.read_bytes()).get_body(("plain",)).get_content()
    assert "Accounts with no plays for 30.5 days are removed" in " ".join(text.split())
    assert "you haven't watched anything on Plex for 28 days" in " ".join(text.split())  # whole days gone by
    store.close()


@pytest.mark.parametrize("renamed", ["remove_at", "remove_on", "days_idle", "limit_days", "last_played", "color"])
def test_a_warning_context_refuses_a_renamed_or_unknown_field(renamed):
    with pytest.raises(TypeError, match=renamed):
        WarningNotice(due_at=T0, **{renamed: 30})


def test_contexts_are_frozen_and_hold_aware_times():
    with pytest.raises(TypeError, match="removed_on"):
        RemovalNotice(removed_at=T0, removed_on=T0.date())  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="due_at"):
        WarningNotice(idle_days=3)  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        WelcomeNotice().key = "other"  # type: ignore[misc]
    for build in (lambda: WarningNotice(due_at=T0.replace(tzinfo=None)),
                  lambda: WarningNotice(due_at=T0, last_play_at=T0.replace(tzinfo=None)),
                  lambda: RemovalNotice(removed_at=T0.replace(tzinfo=None)),
                  lambda: WarningStats(days=90, plays=1, hours=1.0, last_played_at=T0.replace(tzinfo=None))):
        with pytest.raises(ValueError, match="must be an aware datetime"):
            build()


def test_the_iso_forms_of_a_moment():
    berlin = T0.astimezone(timezone(timedelta(hours=1)))
    assert utc_iso(berlin) == "2026-11-16T12:00:00+00:00"  # inside ledger keys: never changes
    assert utc_iso_z(berlin.replace(microsecond=5)) == "2026-11-16T12:00:00.000005Z"  # snapshot JSON
    assert utc_iso_seconds(berlin.replace(microsecond=5)) == "2026-11-16T12:00:00+00:00"  # health
    assert [iso_day(v) for v in (berlin, T0.date(), "2026-11-16T23:00:00", None)] == ["2026-11-16"] * 3 + [""]


def test_a_restarted_membership_warns_under_a_key_of_its_own_and_others_keep_theirs():
    from pipeline.notices.users import warning_key
    stretch = T0 - 30 * DAY
    # The key earlier versions made: a store in the field already has these in its ledger.
    assert warning_key(ALICE, stretch) == f"warning-{ALICE}-2026-10-17T12:00:00+00:00"
    restarted = {warning_key(ALICE, stretch, T0 - 40 * DAY), warning_key(ALICE, stretch, T0 - 35 * DAY)}
    assert len(restarted) == 2 and warning_key(ALICE, stretch) not in restarted
