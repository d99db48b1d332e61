"""`invoke enforce --apply` against the sandbox: unmodified plexapi unshares this server only, e-mails go
through the ledger to the outbox, every step lands in the audit, and a second run doubles nothing."""

from __future__ import annotations

import json
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from pipeline.store.audit import trail
from pipeline.run.commands import enforce, guarded
from pipeline.run.enforce import run_enforce
from pipeline.store.db import sql
from tests.fixtures.enforce_sandbox import ADMIN, EnforceSandbox

# The seeded world's users the policy warns on day 0 (idle 27, 29, 30, 45 days; never watched since joining).
WARNED = ("idle 27d", "idle 29d", "idle 30d", "idle 45d", "never watched")
WELCOMED = ("welcome", "grace")


@pytest.fixture
def sb(tmp_path, ingested_data):
    with EnforceSandbox(tmp_path) as sandbox:
        sandbox.restore(ingested_data)  # as sandbox.ingest() would leave it
        yield sandbox


def apply(sb, **overrides):
    with sb.store(**overrides) as store:
        return run_enforce(store, sb.settings(**overrides), sb.clock, apply=True, scope="users")


def outbox(sb, prefix: str = "") -> Counter:
    """Messages in the outbox backend per message key (the dry-run folder left out)."""
    root = sb.tmp / "outbox"
    return Counter(p.parent.name for p in root.glob("*/*.eml") if p.parent.name.startswith(prefix)
                   and p.parent.parent == root)


def read_eml(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def non_get(server) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests if r.method not in ("GET", "HEAD")]


def warned_then_due(sb, **overrides):
    """Day 0: warnings go out. Day 4: the notice has run, fresh data is ingested."""
    first = apply(sb, **overrides)
    assert first.refusals == [] and first.failures == 0
    sb.clock.advance(days=4)
    sb.ingest()
    return first


def test_dry_run_audits_the_plan_and_changes_nothing(sb):
    with sb.store() as store:
        result = run_enforce(store, sb.settings(), sb.clock, apply=False, scope="users")
        runs = store.con.execute("SELECT applied, status FROM enforce_runs").fetchall()
        phases = store.con.execute("SELECT DISTINCT phase FROM audit").fetchall()
        states = store.con.execute("SELECT count(*) FROM member_states").fetchall()
        ledger = store.con.execute("SELECT count(*) FROM deliveries").fetchall()
        planned = store.con.execute("SELECT count(*) FROM audit WHERE subject = 'user'").fetchall()[0][0]
    assert runs == [(False, "ok")] and phases == [("planned",)]
    assert states == [(0,)] and ledger == [(0,)] and outbox(sb) == Counter()
    assert planned == len(sb.query("SELECT * FROM users WHERE has_access"))  # every decision, once
    assert non_get(sb.tv) == []
    previews = sorted(p.parent.name.split("-")[0] for p in (sb.tmp / "outbox" / "dry-run").glob("*/*.eml"))
    assert previews == ["warning"] * len(WARNED) + ["welcome"] * len(WELCOMED)
    assert result.lines[0].startswith("user plan at") and any(line.startswith("warn ") for line in result.lines)


def test_first_run_welcomes_and_warns_with_the_notice_recorded(sb):
    result = apply(sb)
    assert result.refusals == [] and result.failures == 0
    keys = outbox(sb)
    assert sorted(k.split("-")[0] for k in keys) == ["admin"] + ["warning"] * 5 + ["welcome"] * 2
    assert set(keys.values()) == {1}
    for note in WELCOMED:
        u = sb.user(note)
        joined = sb.query("SELECT accepted_at FROM plex_users WHERE user_id = ?", [u.user_id])[0][0]
        assert keys[f"welcome-{u.user_id}-{joined:%Y%m%d}"] == 1
    welcome = read_eml(next((sb.tmp / "outbox").glob(f"welcome-{sb.user('welcome').user_id}-*/*.eml")))
    assert "HOUSE RULES" in welcome.get_body(("plain",)).get_content()
    assert "<strong>Keep your account to yourself.</strong>" in welcome.get_body(("html",)).get_content()

    u = sb.user("idle 29d")
    text = read_eml(next((sb.tmp / "outbox").glob(f"warning-{u.user_id}-*/*.eml"))).get_body(("plain",)).get_content()
    assert "Your access will be removed on" in text and "In the last 90 days:" in text
    assert "The last thing you watched:" in text

    with sb.store() as store:
        rows = trail(store, "user", u.user_id)
        state = store.con.execute("SELECT warned_at, warned_for_idle_since, removed_at FROM member_states "
                                  "WHERE user_id = ?", [u.user_id]).fetchall()[0]
    done = [r for r in rows if r["phase"] == "done"]
    assert [r["action"] for r in done] == ["warn"] and done[0]["applied"]
    inputs = done[0]["inputs"]
    assert inputs["idle_days"] == 29 and (inputs["warn_days"], inputs["kick_days"]) == (27, 30)
    assert inputs["last_play_at"].startswith("2026-") and inputs["warned_at"] is None
    assert done[0]["outcome"]["delivery"] == "sent"
    assert state[0] == sb.clock.now() and state[1].isoformat() == inputs["idle_since"] and state[2] is None
    assert non_get(sb.tv) == []  # warnings never touch plex.tv


def test_removal_deletes_only_our_share_for_the_right_users(sb):
    warned_then_due(sb)
    other_before = {o.machine_identifier: dict(o.shares) for o in sb.tv.other_servers}
    removed_users = [sb.user(n) for n in ("idle 29d", "idle 30d", "idle 45d", "never watched", "idle 27d")]
    assert any(u.user_id in other_before[sb.tv.other_servers[0].machine_identifier] for u in removed_users)
    sb.tv.clear_log()

    result = apply(sb)

    assert result.failures == 0 and result.refusals == []
    mid = sb.world.machine_identifier
    expected = sorted(("DELETE", f"/api/servers/{mid}/shared_servers/{u.share_id}") for u in removed_users)
    assert sorted(non_get(sb.tv)) == expected  # nothing else was changed on plex.tv: no PUT, POST or other DELETE
    assert sorted((m.action, m.user_id, m.machine_identifier) for m in sb.tv.mutations) == \
        sorted(("unshare", u.user_id, mid) for u in removed_users)
    assert {o.machine_identifier: dict(o.shares) for o in sb.tv.other_servers} == other_before
    assert non_get(sb.pms) == []
    assert all(not u.has_share for u in removed_users) and sb.user("idle 26d").has_share

    notices = outbox(sb, "removal-")
    assert sorted(int(k.split("-")[1]) for k in notices) == sorted(u.user_id for u in removed_users)
    assert set(notices.values()) == {1}
    removed = dict(sb.query("SELECT user_id, removed_at FROM member_states WHERE removed_at IS NOT NULL"))
    assert sorted(removed) == sorted(u.user_id for u in removed_users)
    assert set(removed.values()) == {sb.clock.now()}
    assert sorted(sb.query("SELECT user_id FROM plex_users WHERE removed_at IS NOT NULL")) == \
        sorted((u.user_id,) for u in removed_users)
    with sb.store() as store:
        rows = trail(store, "user", sb.user("idle 29d").user_id)
    assert [(r["action"], r["phase"]) for r in rows] == [("warn", "done"), ("remove", "started"), ("remove", "done")]
    assert rows[-1]["outcome"]["plex"] == "unshared" and rows[-1]["outcome"]["notice_delivery"] == "sent"
    assert rows[-1]["inputs"]["warned_at"] is not None

    # Idempotent: the same moment again changes nothing and sends nothing.
    before = outbox(sb)
    sb.tv.clear_log()
    again = apply(sb)
    assert again.failures == 0 and non_get(sb.tv) == [] and outbox(sb) == before
    sb.ingest()
    assert non_get(sb.tv) == [] and apply(sb).failures == 0 and outbox(sb) == before


def test_a_rerun_sends_no_second_welcome_or_warning(sb):
    apply(sb)
    first = outbox(sb)
    sb.clock.advance(hours=1)
    sb.ingest()
    result = apply(sb)
    assert result.failures == 0
    assert {k: v for k, v in outbox(sb).items() if not k.startswith("admin-")} == \
        {k: v for k, v in first.items() if not k.startswith("admin-")}
    assert sb.query("SELECT count(*) FROM deliveries WHERE kind IN ('welcome', 'warning') AND attempts > 1") == [(0,)]


def test_remove_friend_setting_ends_the_friendship_instead(sb):
    warned_then_due(sb)
    sb.tv.clear_log()
    result = apply(sb, **{"users.remove_friend": True})
    assert result.failures == 0
    removed = [sb.user(n).user_id for n in ("idle 27d", "idle 29d", "idle 30d", "idle 45d", "never watched")]
    assert sorted(non_get(sb.tv)) == sorted(("DELETE", f"/api/v2/sharings/{uid}") for uid in removed)
    assert sorted((m.action, m.user_id) for m in sb.tv.mutations) == sorted(("remove_friend", u) for u in removed)


def test_tautulli_history_is_deleted_when_asked_and_ours_is_kept(sb):
    warned_then_due(sb)
    u = sb.user("idle 29d")
    ours = sb.query("SELECT count(*) FROM tautulli_history WHERE user_id = ?", [u.user_id])[0][0]
    result = apply(sb, **{"users.delete_tautulli_history": True})
    assert result.failures == 0
    calls = [r.query for r in sb.tautulli.requests_to("/api/v2") if r.query.get("cmd") == "delete_all_user_history"]
    assert sorted(int(q["user_id"]) for q in calls) == sorted(m.user_id for m in sb.tv.mutations)
    assert not (sb.world.plays.cols["user_id"] == u.user_id).any()
    assert sb.query("SELECT count(*) FROM tautulli_history WHERE user_id = ?", [u.user_id])[0][0] == ours > 0


def test_a_reinvited_user_is_a_new_user_again(sb):
    warned_then_due(sb)
    apply(sb)
    u = sb.user("idle 29d")
    assert not u.has_share
    # The admin shares the server with them again; plex.tv gives no acceptedAt for this share.
    sb.clock.advance(days=1)
    u.has_share, u.accepted_at = True, None
    sb.ingest()
    pending = sb.query("SELECT pending, removed_at FROM plex_users WHERE user_id = ?", [u.user_id])
    assert pending == [(True, None)]  # listed again (as pending): no longer removed
    u.accepted_at = int(sb.clock.now().timestamp())
    sb.clock.advance(hours=1)
    sb.ingest()
    with sb.store() as store:
        result = run_enforce(store, sb.settings(), sb.clock, apply=True, scope="users")
        state = store.con.execute("SELECT welcomed_at, warned_at, removed_at FROM member_states WHERE user_id = ?",
                                  [u.user_id]).fetchall()[0]
    line = next(x for x in result.lines if u.username in x and x.startswith("welcomed"))
    assert "welcome e-mail sent" in line
    assert state == (sb.clock.now(), None, None)  # the old membership's warning and removal are behind them
    assert len(outbox(sb, f"welcome-{u.user_id}-")) == 1


def test_reinvite_without_accepted_at_resets_first_seen(sb):
    u = sb.user("home")
    first_seen = sb.query("SELECT first_seen_at FROM plex_users WHERE user_id = ?", [u.user_id])[0][0]
    u.has_share = False  # in the Home without a share: no acceptedAt, the join date is when Marquee saw them
    sb.clock.advance(days=1)
    sb.ingest()
    assert sb.query("SELECT accepted_at, first_seen_at FROM plex_users WHERE user_id = ?", [u.user_id]) == \
        [(None, first_seen)]
    u.is_home = False  # they leave the Home
    sb.clock.advance(days=1)
    sb.ingest()
    assert sb.query("SELECT removed_at FROM plex_users WHERE user_id = ?", [u.user_id]) == [(sb.clock.now(),)]
    u.is_home = True  # and are invited back
    sb.clock.advance(days=1)
    sb.ingest()
    again = sb.query("SELECT first_seen_at, removed_at FROM plex_users WHERE user_id = ?", [u.user_id])[0]
    assert again == (sb.clock.now(), None)
    members = dict((r[0], r[1:]) for r in sb.query(
        "SELECT user_id, joined_at, join_is_estimate FROM (" + sql("policy/members") + ")",
        {"min_play_seconds": 120}))
    assert members[u.user_id] == (sb.clock.now(), True)
    kept = sb.query("SELECT first_seen_at FROM plex_users WHERE user_id = ?", [sb.user("idle 10d").user_id])[0][0]
    assert kept == first_seen  # everyone else keeps their first sighting


def test_the_command_prints_the_plan_and_exits_zero(sb, capsys):
    assert guarded(enforce, sb.settings(), sb.clock) == 0
    out = capsys.readouterr().out
    assert "Dry run" in out and "warn " in out and "plan: 2 welcome, 5 warn" in out


def test_admin_notices_reach_discord_end_to_end(sb, discord):
    warned_then_due(sb)
    result = apply(sb, **{"notify.discord_webhook_url": discord.url})
    assert result.failures == 0
    (message,) = discord.messages
    text = message["content"]
    assert "**Removed** (5)" in text and sb.user("idle 29d").username in text
    assert message["allowed_mentions"] == {"parse": []}
    admin = read_eml(next((sb.tmp / "outbox").glob(f"admin-enforce-{result.run_id}/*.eml")))
    assert admin["To"].addresses[0].addr_spec == ADMIN and "REMOVED (5)" in admin.get_body(("plain",)).get_content()
    assert discord.token not in json.dumps(result.lines)
