"""The acting side of the user policy with a FixedClock and a memory store: stored states, e-mails through the
ledger to a loopback mail drop, what is recorded when an e-mail fails, and what acting refuses to do."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from pipeline.store.audit import Audit, trail
from pipeline.notices.admin import Notifier
from pipeline.act.states import gone_elsewhere, load_states, save_removed, save_states
from pipeline.act.users import UserRun, act_users, preview_users
from pipeline.clock import FixedClock
import pipeline.clients.plex_rows as plex_rows
from pipeline.policy.plan import Action, Plan
from pipeline.policy.users import NEW, Member, MemberState, UserPolicy, decide_users
from pipeline.render.email.contexts import WarningNotice
from pipeline.render.email.message import Recipient
from pipeline.send.run import send_messages
from pipeline.render.email.notice import render_notice
from pipeline.settings import load_settings
from pipeline.store.db import memory_store
from tests.fixtures.mail_drop import MailDrop, folder_for

T0 = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
ALICE, BOB, NOMAIL, NEWBIE = 101, 102, 103, 104


def plex_user(uid, name, email, accepted):
    return dict(user_id=uid, username=name, title=name, email=email, is_owner=False, is_home=False,
                is_restricted=False, share_id=9000 + uid, invited_at=accepted - DAY if accepted else None,
                accepted_at=accepted, pending=accepted is None, all_libraries=True, section_ids=[1])


USERS = [plex_user(ALICE, "alice", "alice@example.org", T0 - 400 * DAY),
         plex_user(BOB, "bob", "bob@example.org", T0 - 300 * DAY),
         plex_user(NOMAIL, "nomail", None, T0 - 200 * DAY),
         plex_user(NEWBIE, "newbie", "newbie@example.org", T0 - 2 * DAY)]


def merge(store, users, now):
    store.con.register("plex_user_rows", plex_rows.table(users, plex_rows.USER_SCHEMA))
    try:
        store.execute("ingest/merge_plex_users", {"now": now})
        store.execute("ingest/mark_removed_plex_users", {"now": now})
    finally:
        store.con.unregister("plex_user_rows")


@pytest.fixture
def env(tmp_path):
    store = memory_store()
    merge(store, USERS, T0 - 500 * DAY)
    with MailDrop(tmp_path / "outbox") as mail:  # delivered mail is filed under tmp_path/outbox/<key>/
        settings = load_settings(environ={}, dotenv_path=None, overrides={
            **mail.settings(), "email.outbox_dir": str(tmp_path / "outbox"), "email.from_address":
            "news@example.org", "email.admin_email": "admin@example.org", "server.timezone": "Europe/Berlin"})
        yield store, settings, FixedClock(T0), tmp_path / "outbox"
    store.close()


def members(last_play: dict[int, datetime | None]) -> dict[int, Member]:
    out = {}
    for u in USERS:
        out[u["user_id"]] = Member(u["user_id"], u["username"], u["email"], False, False, False, u["accepted_at"],
                                   last_play.get(u["user_id"]))
    return out


def run_once(store, settings, clock, mem, *, apply=True, hold_back=False):
    """One run: decide from the stored states, act, flush the admin notices; returns (plan, result, run_id)."""
    policy = UserPolicy.from_settings(settings)
    states = load_states(store)
    plan = decide_users(mem.values(), states, clock.now(), policy, first_run=False, started_at=T0 - 100 * DAY)
    audit = Audit(store, clock, applied=apply)
    notifier = Notifier(store, settings, clock, apply=apply)
    run = UserRun(store, settings, clock, audit, notifier, policy, mem, states)
    result = (act_users if apply else preview_users)(run, plan, hold_back=hold_back)
    notifier.flush(audit.run_id)
    audit.finish("ok", "test")
    return plan, result, audit.run_id


def files(outbox: Path, prefix: str) -> list[Path]:
    return sorted(p for p in outbox.glob(f"{prefix}*/*.eml"))


def plain(path: Path) -> str:
    return BytesParser(policy=email_policy.default).parsebytes(path.read_bytes()).get_body(("plain",)).get_content()


def idle(days: float) -> datetime:
    return T0 - days * DAY


# -- stored states ------------------------------------------------------------------------------------------------

def test_states_round_trip_in_bulk_and_upsert():
    store = memory_store()
    states = {uid: MemberState(welcomed_at=T0 - uid * timedelta(minutes=1), removal_attempts=uid % 3)
              for uid in range(1, 2001)}
    save_states(store, states, T0)
    assert load_states(store) == states
    changed = {7: MemberState(warned_at=T0, warned_for_idle_since=T0 - 30 * DAY, last_error="x")}
    save_states(store, changed, T0 + DAY)
    loaded = load_states(store)
    assert loaded[7] == changed[7] and loaded[8] == states[8] and len(loaded) == 2000
    assert loaded[7].warned_at.utcoffset() == timedelta(0)
    assert store.con.execute("SELECT updated_at FROM member_states WHERE user_id = 7").fetchall() == [(T0 + DAY,)]


def test_a_recorded_removal_also_ends_access_in_plex_users(env):
    store, *_ = env
    save_removed(store, ALICE, MemberState(warned_at=T0 - 4 * DAY, removed_at=T0, removal_attempts=1), T0)
    assert store.con.execute("SELECT removed_at FROM plex_users WHERE user_id = ?", [ALICE]).fetchall() == [(T0,)]
    assert load_states(store)[ALICE].removed_at == T0
    assert gone_elsewhere(store) == []


def test_access_ended_outside_marquee_is_found():
    store = memory_store()
    merge(store, USERS, T0 - 10 * DAY)
    save_states(store, {ALICE: MemberState(welcomed_at=T0 - 9 * DAY)}, T0)
    merge(store, [u for u in USERS if u["user_id"] != ALICE], T0 - DAY)
    assert gone_elsewhere(store) == [(ALICE, T0 - DAY)]


def test_a_returning_user_gets_a_new_first_seen_and_others_keep_theirs():
    store = memory_store()
    merge(store, USERS, T0 - 10 * DAY)
    merge(store, [u for u in USERS if u["user_id"] != BOB], T0 - 5 * DAY)
    merge(store, USERS, T0)
    rows = dict(store.con.execute("SELECT user_id, first_seen_at FROM plex_users").fetchall())
    assert rows[BOB] == T0 and rows[ALICE] == T0 - 10 * DAY


# -- acting -------------------------------------------------------------------------------------------------------

def test_welcome_goes_once_with_its_key_and_the_house_rules(env):
    store, settings, clock, outbox = env
    mem = members({ALICE: idle(1), BOB: idle(1), NOMAIL: idle(1)})
    plan, result, _ = run_once(store, settings, clock, mem)
    assert plan.for_user(NEWBIE).kind == "welcome"
    (path,) = files(outbox, f"welcome-{NEWBIE}-20261114")
    assert "HOUSE RULES" in plain(path) and "Keep your account to yourself." in plain(path)
    assert load_states(store)[NEWBIE].welcomed_at == T0
    clock.advance(hours=1)
    plan, result, _ = run_once(store, settings, clock, mem)
    assert plan.for_user(NEWBIE).kind == "wait" and len(files(outbox, "welcome-")) == 1


def test_an_opted_out_newcomer_is_welcomed_without_an_email(env):
    from pipeline.send.optout import optout

    store, settings, clock, outbox = env
    optout(store, "newbie@example.org")
    run_once(store, settings, clock, members({ALICE: idle(1), BOB: idle(1), NOMAIL: idle(1)}))
    assert files(outbox, "welcome-") == [] and load_states(store)[NEWBIE].welcomed_at == T0
    assert trail(store, "user", NEWBIE)[-1]["phase"] == "skipped"


def test_a_warning_carries_the_exact_removal_date_and_is_recorded_when_sent(env):
    store, settings, clock, outbox = env
    mem = members({ALICE: idle(28), BOB: idle(1), NOMAIL: idle(1)})
    plan, result, run_id = run_once(store, settings, clock, mem)
    action = plan.for_user(ALICE)
    assert action.kind == "warn" and action.due_at == T0 + 3 * DAY
    (path,) = files(outbox, folder_for(f"warning-{ALICE}-{idle(28).isoformat()}"))
    text = plain(path)
    assert "Your access will be removed on 19 Nov 2026 at 13:00 (Europe/Berlin)." in text
    assert "In the last 90 days: no plays at all." in text
    state = load_states(store)[ALICE]
    assert (state.warned_at, state.warned_for_idle_since) == (T0, idle(28))
    (row,) = [r for r in trail(store, "user", ALICE) if r["run_id"] == run_id]
    assert row["phase"] == "done" and row["outcome"]["delivery"] == "sent"
    assert row["inputs"]["kick_days"] == 30 and row["inputs"]["idle_days"] == 28


def test_a_warning_without_an_address_is_failed_told_once_and_postpones_removal(env):
    store, settings, clock, outbox = env
    mem = members({ALICE: idle(1), BOB: idle(1), NOMAIL: idle(28)})
    _, first, run1 = run_once(store, settings, clock, mem)
    assert first.failures == 1
    state = load_states(store)[NOMAIL]
    assert state.warned_at is None and state.last_error == "warning e-mail not sent: no e-mail address"
    assert "no e-mail address" in plain(files(outbox, f"admin-enforce-{run1}")[0])
    clock.advance(days=5)  # well past kick_days: still no removal, because no warning went out
    plan, second, run2 = run_once(store, settings, clock, mem)
    assert plan.for_user(NOMAIL).kind == "warn" and second.failures == 1
    assert files(outbox, f"admin-enforce-{run2}") == []  # the admin was told already; nothing new to say


def test_a_warning_sent_by_a_killed_run_counts_from_when_it_left(env):
    store, settings, clock, outbox = env
    mem = members({ALICE: idle(28), BOB: idle(1), NOMAIL: idle(1)})
    key = f"warning-{ALICE}-{idle(28).isoformat()}"
    msg = render_notice("warning", Recipient("alice@example.org", ALICE, "alice"),
                        WarningNotice(key=key, due_at=T0 + 3 * DAY), settings, clock=clock)
    send_messages(store, settings, [msg], apply=True, clock=clock)  # ... and the run died before recording it
    clock.advance(hours=2)
    plan, result, _ = run_once(store, settings, clock, mem)
    assert plan.for_user(ALICE).kind == "warn" and result.failures == 0
    assert load_states(store)[ALICE].warned_at == T0  # the notice runs from the e-mail, not from this run
    assert len(files(outbox, "warning-")) == 1


def test_watching_again_clears_the_warning(env):
    store, settings, clock, _ = env
    save_states(store, {ALICE: MemberState(warned_at=T0 - 2 * DAY, warned_for_idle_since=idle(29))}, T0)
    plan, result, _ = run_once(store, settings, clock, members({ALICE: idle(0.5), BOB: idle(1), NOMAIL: idle(1)}))
    assert plan.for_user(ALICE).kind == "clear_warning"
    assert load_states(store)[ALICE] == NEW


def test_the_dry_run_writes_previews_only(env):
    store, settings, clock, outbox = env
    _, result, _ = run_once(store, settings, clock, members({ALICE: idle(28), BOB: idle(1), NOMAIL: idle(1)}),
                            apply=False)
    assert load_states(store) == {} and store.con.execute("SELECT count(*) FROM deliveries").fetchall() == [(0,)]
    assert sorted(p.parent.name.split("-")[0] for p in (outbox / "dry-run").glob("*/*.eml")) == ["warning", "welcome"]
    assert "2 e-mail(s)" in result.lines[0]


def test_held_back_actions_are_not_taken(env):
    store, settings, clock, outbox = env
    run_once(store, settings, clock, members({ALICE: idle(28), BOB: idle(1), NOMAIL: idle(1)}), hold_back=True)
    assert files(outbox, "warning-") == [] and len(files(outbox, "welcome-")) == 1
    assert load_states(store).get(ALICE) is None


def test_acting_never_removes_without_a_recorded_warning_and_an_outage_costs_no_attempt(env):
    store, settings, clock, _ = env
    mem = members({ALICE: idle(40), BOB: idle(1), NOMAIL: idle(1)})
    policy = UserPolicy.from_settings(settings)
    audit = Audit(store, clock, applied=True)
    run = UserRun(store, settings, clock, audit, Notifier(store, settings, clock, apply=True), policy, mem, {})
    forged = Action("remove", ALICE, "forged", T0, {"idle_since": idle(40), "idle_days": 40}, "alice")
    result = act_users(run, Plan(T0, (forged,)), hold_back=False)
    assert result.failures == 1 and run.plex is None  # plex.tv was never contacted
    assert "no warning recorded" in load_states(store)[ALICE].last_error

    save_states(store, {ALICE: MemberState(warned_at=T0 - 4 * DAY, warned_for_idle_since=idle(44))}, T0)
    run.states = load_states(store)
    result = act_users(run, Plan(T0, (forged,)), hold_back=False)  # Plex is not configured at all
    state = load_states(store)[ALICE]
    assert result.failures == 1 and state.removal_attempts == 0 and "PLEX_URL" in state.last_error
    assert state.removed_at is None
