"""Faults while enforcing: plex.tv failing the unshare (500, 410, a timeout), plex.tv unreachable, stale data,
a silent Tautulli, and --force. Failures are recorded and retried a bounded number of times; refusals change
nothing destructive and exit non-zero."""

from __future__ import annotations

import logging
import threading
from collections import Counter

import pytest

from pipeline.store.audit import trail
from pipeline.run.commands import enforce, guarded
from pipeline.run.enforce import run_enforce
from tests.fixtures.enforce_sandbox import EnforceSandbox

DUE = ("idle 27d", "idle 29d", "idle 30d", "idle 45d", "never watched")


@pytest.fixture
def sb(tmp_path, ingested_data):
    with EnforceSandbox(tmp_path) as sandbox:
        sandbox.restore(ingested_data)  # as sandbox.ingest() would leave it
        yield sandbox


def apply(sb, force=False, **overrides):
    with sb.store(**overrides) as store:
        return run_enforce(store, sb.settings(**overrides), sb.clock, apply=True, force=force, scope="users")


def warned_then_due(sb, ingest=True):
    assert apply(sb).failures == 0
    sb.clock.advance(days=4)
    if ingest:
        sb.ingest()


def deletes(sb) -> Counter:
    """DELETE requests plex.tv received per share id."""
    return Counter(int(r.path.rsplit("/", 1)[1]) for r in sb.tv.requests_to("/api/servers/", "DELETE"))


def states(sb) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in sb.query(
        "SELECT user_id, removed_at, removal_attempts, last_error, warned_at FROM member_states")}


def user_mail(sb) -> Counter:
    root = sb.tmp / "outbox"
    return Counter(p.parent.name for p in root.glob("*/*.eml") if not p.parent.name.startswith("admin-"))


def admin_mail(sb, run_id: int) -> str:
    from email import policy
    from email.parser import BytesParser

    path = next((sb.tmp / "outbox").glob(f"admin-enforce-{run_id}/*.eml"))
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes()).get_body(("plain",)).get_content()


@pytest.mark.parametrize("status, says", [(500, "answered 500"), (410, "answered 410")])
def test_a_failed_unshare_is_recorded_and_retried_next_run(sb, status, says):
    warned_then_due(sb)
    mid = sb.world.machine_identifier
    sb.tv.fail("status", status=status, path=f"/api/servers/{mid}/shared_servers/")
    users = [sb.user(n) for n in DUE]

    failed = apply(sb)

    assert failed.failures == len(DUE) and sb.tv.mutations == []
    assert all(u.has_share for u in users)
    got = states(sb)
    for u in users:
        removed_at, attempts, error, _ = got[u.user_id]
        assert removed_at is None and attempts == 1 and says in error and "\n" not in error
    rows = trail_of(sb, users[0].user_id)
    assert rows[-1]["phase"] == "failed" and says in rows[-1]["outcome"]["error"]
    assert rows[-1]["outcome"]["attempt"] == 1
    assert not any(k.startswith("removal-") for k in user_mail(sb))  # no notice for a removal that did not happen
    assert "REMOVAL FAILED (5)" in admin_mail(sb, failed.run_id)
    assert any(line.startswith("FAILED") and "attempt 1 of 3; retried next run" in line for line in failed.lines)

    sb.tv.heal()
    sb.clock.advance(hours=1)
    sb.ingest()
    retried = apply(sb)

    assert retried.failures == 0
    assert deletes(sb) == Counter({u.share_id: 2 for u in users})  # one refused, one that worked
    assert sorted(m.user_id for m in sb.tv.mutations) == sorted(u.user_id for u in users)
    assert all(got[0] is not None and got[1] == 2 for got in (states(sb)[u.user_id] for u in users))
    assert Counter(k.split("-")[0] for k in user_mail(sb))["removal"] == len(DUE)


def test_a_timed_out_unshare_that_went_through_is_not_sent_again(sb):
    warned_then_due(sb)
    mid = sb.world.machine_identifier
    first = sb.user("never watched")  # the lowest user id: the first DELETE
    assert first.user_id == min(sb.user(n).user_id for n in DUE)
    done = threading.Event()
    sb.tv.fail("slow", delay=2.0, path=f"/api/servers/{mid}/shared_servers/", times=1)

    failed = apply(sb, **{"plex.timeout_seconds": 0.5})

    assert failed.failures == 1
    assert "timed out" in states(sb)[first.user_id][2]
    # plex.tv finishes the DELETE after the client gave up on it.
    for _ in range(100):
        if any(m.user_id == first.user_id for m in sb.tv.mutations):
            done.set()
            break
        done.wait(0.1)
    assert done.is_set() and not first.has_share

    sb.clock.advance(hours=1)
    retried = apply(sb)
    assert retried.failures == 0
    assert deletes(sb)[first.share_id] == 1  # the re-read found it done: no second DELETE
    assert states(sb)[first.user_id][0] == sb.clock.now()
    row = trail_of(sb, first.user_id)[-1]
    assert (row["phase"], row["outcome"]["plex"]) == ("done", "already")
    assert user_mail(sb)[next(k for k in user_mail(sb) if k.startswith(f"removal-{first.user_id}-"))] == 1


def test_failed_unshares_stop_after_max_attempts(sb):
    warned_then_due(sb)
    mid = sb.world.machine_identifier
    sb.tv.fail("status", status=500, path=f"/api/servers/{mid}/shared_servers/")
    limits = {"users.max_removal_attempts": 2}
    for n in (1, 2):
        assert apply(sb, **limits).failures == len(DUE)
        assert {states(sb)[sb.user(x).user_id][1] for x in DUE} == {n}
        sb.clock.advance(hours=1)
    third = apply(sb, **limits)
    assert third.failures == 0
    assert deletes(sb) == Counter({sb.user(n).share_id: 2 for n in DUE})
    assert any("removal failed 2 times" in line for line in third.lines)


def test_plextv_unreachable_uses_up_no_attempt(sb):
    warned_then_due(sb)
    sb.tv.fail("down")
    result = apply(sb)
    assert result.failures == len(DUE)
    for n in DUE:
        _, attempts, error, _ = states(sb)[sb.user(n).user_id]
        assert attempts == 0 and "plex.tv" in error and "not reachable" in error


def test_stale_data_refuses_exits_3_and_changes_nothing(sb, capsys):
    warned_then_due(sb, ingest=False)  # the last ingest is now four days old
    before_states, before_mail = states(sb), user_mail(sb)
    sb.tv.clear_log()

    code = guarded(enforce, sb.settings(), sb.clock, apply=True, scope="users")

    assert code == 3
    out, err = capsys.readouterr()
    refused = [line for line in out.splitlines() if line.startswith("refused: ")]
    assert len(refused) == 1 and "ingest" in refused[0]
    assert err.startswith("error: enforcement refused") and err.count("\n") == 1
    assert sb.tv.requests_to("/api/", "DELETE") == [] and sb.tv.mutations == []
    assert states(sb) == before_states and user_mail(sb) == before_mail
    assert sb.query("SELECT status, applied FROM enforce_runs ORDER BY run_id DESC LIMIT 1") == [("refused", True)]
    phases = Counter(sb.query("SELECT action || '/' || phase FROM audit WHERE run_id = "
                              "(SELECT max(run_id) FROM enforce_runs)"))
    assert phases[("enforce/refused",)] == 1 and phases[("remove/refused",)] == len(DUE)
    run_id = sb.query("SELECT max(run_id) FROM enforce_runs")[0][0]
    assert "REFUSED (1)" in admin_mail(sb, run_id)


def test_a_silent_tautulli_refuses(sb):
    warned_then_due(sb)  # fresh ingest, but no plays anywhere for four days
    result = apply(sb, **{"users.quiet_days": 3})
    assert len(result.refusals) == 1 and "Tautulli shows no plays server-wide" in result.refusals[0]
    assert sb.tv.requests_to("/api/", "DELETE") == []
    assert all(states(sb)[sb.user(n).user_id][0] is None for n in DUE)


def test_stale_data_holds_warnings_back_but_welcomes_still_go(sb):
    sb.clock.advance(days=2)  # no ingest since the fixture's
    result = apply(sb)
    assert result.refusals and "ingest" in result.refusals[0]
    mail = Counter(k.split("-")[0] for k in user_mail(sb))
    assert mail == Counter({"welcome": 2})
    assert all(s[3] is None for s in states(sb).values())  # nobody warned


def test_force_acts_on_stale_data_and_is_logged(sb, caplog):
    warned_then_due(sb, ingest=False)
    with caplog.at_level(logging.WARNING, logger="pipeline.run.enforce"):
        result = apply(sb, force=True)
    assert result.refusals == [] and result.failures == 0
    assert sorted(m.user_id for m in sb.tv.mutations) == sorted(sb.user(n).user_id for n in DUE)
    assert any("--force" in r.getMessage() and "ingest" in r.getMessage() for r in caplog.records)
    run_id, forced = sb.query("SELECT run_id, forced FROM enforce_runs ORDER BY run_id DESC LIMIT 1")[0]
    assert forced
    (row,) = sb.query("SELECT reason, inputs FROM audit WHERE run_id = ? AND phase = 'forced'", [run_id])
    assert "--force skipped the guards" in row[0] and "ingest" in row[1]
    assert "FORCED (1)" in admin_mail(sb, run_id)


def trail_of(sb, user_id: int) -> list[dict]:
    with sb.store() as store:
        return trail(store, "user", user_id)
