"""What must stop or hold a removal, against the loopback sandboxes: a user streaming right now, a plex.tv listing
that misses a user whose share is still there, a one-ingest gap in plex.tv's listing, a warning e-mail left
'unknown' by a kill, and plexapi tripping over its own data (KeyError) while unsharing."""

from __future__ import annotations

import copy
import json

import pytest

from pipeline.act.activity import Activity, now_playing
from pipeline.run.enforce import decide, run_enforce
from pipeline.errors import MarqueeError
from pipeline.sandbox.http import Request, Response, SandboxServer
from pipeline.sandbox.plextv import PlexTvSandbox
from tests.fixtures.enforce_sandbox import EnforceSandbox
from tests.fixtures.smtp_server import Inbox, start_smtp

DUE = ("idle 27d", "idle 29d", "idle 30d", "idle 45d", "never watched")  # removed on day 4


@pytest.fixture
def sb(tmp_path, ingested_data):
    with EnforceSandbox(tmp_path) as sandbox:
        sandbox.restore(ingested_data)  # as sandbox.ingest() would leave it
        yield sandbox


def apply(sb, scope="users", **overrides):
    with sb.store(**overrides) as store:
        return run_enforce(store, sb.settings(**overrides), sb.clock, apply=True, scope=scope)


def warned_then_due(sb):
    first = apply(sb)
    assert first.failures == 0 and first.refusals == []
    sb.clock.advance(days=4)
    sb.ingest()


def unshared(sb) -> set[int]:
    return {m.user_id for m in sb.tv.mutations}


def state(sb, user_id: int) -> tuple:
    return sb.query("SELECT warned_at, removed_at, removal_attempts, last_error FROM member_states "
                    "WHERE user_id = ?", [user_id])[0]


def audit_rows(sb, user_id: int) -> list[tuple]:
    return sb.query("SELECT action, phase, reason FROM audit WHERE subject = 'user' AND subject_id = ? "
                    "AND run_id = (SELECT max(run_id) FROM enforce_runs) ORDER BY audit_id", [user_id])


# -- 1. nobody is cut off mid-stream ------------------------------------------------------------------------------

def test_a_user_streaming_right_now_is_not_removed_until_a_later_run(sb):
    warned_then_due(sb)
    u = sb.user("idle 29d")
    movie = next(i for i in sb.world.items.values() if i.type == "movie")
    sb.world.activity.append({"session_key": 99, "user_id": u.user_id, "rating_key": movie.rating_key,
                              "state": "playing", "view_offset": 600_000})

    sb.tautulli.clear_log()
    held = apply(sb)

    others = {sb.user(n).user_id for n in DUE} - {u.user_id}
    assert unshared(sb) == others and u.has_share and held.failures == 0
    assert any(line.startswith("waiting") and u.username in line and "playing right now" in line
               for line in held.lines)
    assert ("remove", "skipped", "playing right now") in audit_rows(sb, u.user_id)
    assert state(sb, u.user_id)[1:3] == (None, 0)  # no attempt used up
    asked = [r.query.get("cmd") for r in sb.tautulli.requests_to("/api/v2")]
    assert asked == ["get_activity"]  # read once for the whole run

    sb.world.activity.clear()  # the stream ended (its play is not counted yet: still idle)
    sb.clock.advance(hours=1)
    apply(sb)
    assert u.user_id in unshared(sb) and not u.has_share


def test_unreadable_activity_holds_every_removal_but_warnings_still_go(sb):
    warned_then_due(sb)
    sb.tautulli.fail("status", status=500)  # the ingest is done; only get_activity is asked now

    held = apply(sb)

    assert unshared(sb) == set() and held.failures == 0
    assert all(state(sb, sb.user(n).user_id)[1:3] == (None, 0) for n in DUE)
    waiting = [line for line in held.lines if line.startswith("waiting")]
    assert len(waiting) == len(DUE) and all("cannot check what is playing right now" in line for line in waiting)
    assert "\n" not in waiting[0] and "Traceback" not in waiting[0]
    assert state(sb, sb.user("idle 26d").user_id)[0] == sb.clock.now()  # the warning went out

    sb.tautulli.heal()
    sb.clock.advance(hours=1)
    apply(sb)
    assert unshared(sb) == {sb.user(n).user_id for n in DUE}


class ActivityServer(SandboxServer):
    """A Tautulli that answers get_activity with a fixed `data`."""

    def __init__(self, data) -> None:
        super().__init__()
        self.data = data

    def handle(self, request: Request) -> Response:
        return Response(200, json.dumps({"response": {"result": "success", "message": None,
                                                      "data": self.data}}).encode())


def test_now_playing_skips_junk_values_and_refuses_an_answer_without_sessions(sb):
    sessions = [{"rating_key": "11", "parent_rating_key": "10", "grandparent_rating_key": "9", "user_id": 5},
                {"rating_key": "", "user_id": "6"},           # live TV: no rating key, still a user
                {"rating_key": "abc", "user_id": "x7"},       # junk both ways
                {"rating_key": 12, "user_id": None}, "not a session"]
    with ActivityServer({"stream_count": "5", "sessions": sessions}) as tautulli:
        got = now_playing(sb.settings(**{"tautulli.url": tautulli.url}))
    assert got == Activity(frozenset({9, 10, 11, 12}), frozenset({5, 6}))

    with ActivityServer({"stream_count": "0"}) as tautulli:
        with pytest.raises(MarqueeError, match="without a session list"):
            now_playing(sb.settings(**{"tautulli.url": tautulli.url}))
    with pytest.raises(MarqueeError, match="Tautulli is not configured"):
        now_playing(sb.settings(**{"tautulli.url": ""}))


# -- 2. missing from one listing is not "already removed" --------------------------------------------------------

def test_a_user_missing_from_the_user_listing_while_the_share_is_there_is_a_counted_failure(sb):
    warned_then_due(sb)
    u = sb.user("idle 30d")
    sb.tv._removed.add(u.user_id)  # /api/users omits her; this server's shared_servers still lists her

    failed = apply(sb)

    assert u.has_share and u.user_id not in unshared(sb) and failed.failures == 1
    warned_at, removed_at, attempts, error = state(sb, u.user_id)
    assert removed_at is None and attempts == 1 and "lists a share of this server" in error
    assert not list((sb.tmp / "outbox").glob(f"removal-{u.user_id}-*/*.eml"))  # no notice for a removal not made

    sb.tv._removed.discard(u.user_id)
    sb.clock.advance(hours=1)
    retried = apply(sb)
    assert retried.failures == 0 and not u.has_share and state(sb, u.user_id)[1] == sb.clock.now()


def test_a_user_missing_from_one_ingest_is_still_a_member_not_exempt(sb):
    apply(sb)  # day 0: warnings
    u = sb.user("idle 29d")
    sb.clock.advance(hours=1)
    u.has_share = False  # plex.tv's listings miss her for one ingest
    sb.ingest()
    apply(sb, scope="new_users")  # records her as gone elsewhere
    u.has_share = True  # back: same share, same acceptedAt
    sb.clock.advance(days=4)
    sb.ingest()

    with sb.store() as store:
        d = decide(store, sb.settings(), sb.clock.now())
    action = d.plan.for_user(u.user_id)
    assert action is not None and action.kind == "remove"  # the day-0 warning was about this same idle stretch

    apply(sb)
    assert not u.has_share and u.user_id in unshared(sb)
    assert state(sb, u.user_id)[1] == sb.clock.now()


# -- 3. an 'unknown' warning is sent again -------------------------------------------------------------------------
# Over SMTP, where the ledger cannot look up whether an interrupted message arrived (the outbox backend can).

@pytest.fixture
def smtp_sb(tmp_path, ingested_data):
    inbox = Inbox()
    controller = start_smtp(inbox)
    try:
        with EnforceSandbox(tmp_path, **{"email.backend": "smtp", "smtp.host": "127.0.0.1",
                                         "smtp.port": controller.port, "smtp.security": "none"}) as sandbox:
            sandbox.restore(ingested_data)  # e-mail settings do not change what an ingest stores
            yield sandbox, inbox
    finally:
        controller.stop()


def test_a_warning_left_unknown_by_a_kill_is_sent_again_and_counts(smtp_sb):
    sb, inbox = smtp_sb
    u = sb.user("idle 29d")
    with sb.store() as store:
        a = decide(store, sb.settings(), sb.clock.now()).plan.for_user(u.user_id)
        key = f"warning-{u.user_id}-{a.inputs['idle_since'].isoformat()}"
        email = store.con.execute("SELECT lower(email) FROM users WHERE user_id = ?", [u.user_id]).fetchall()[0][0]
        # what a SIGKILL during the send leaves behind, after the next run's recovery
        store.con.execute("INSERT INTO deliveries (message_key, email, user_id, kind, state, attempts) "
                          "VALUES (?, ?, ?, 'warning', 'unknown', 1)", [key, email, u.user_id])

    run = apply(sb)

    assert run.failures == 0 and state(sb, u.user_id)[0] == sb.clock.now()
    assert sb.query("SELECT state FROM deliveries WHERE message_key = ?", [key]) == [("sent",)]
    assert inbox.count(email) == 1


def test_a_removal_notice_left_unknown_is_sent_again_on_the_next_run(smtp_sb):
    sb, inbox = smtp_sb
    warned_then_due(sb)
    apply(sb)
    u = sb.user("idle 45d")
    email = u.email.lower()
    assert not u.has_share and inbox.count(email) == 2  # the warning and the removal notice
    # what a kill during the notice's send leaves behind
    sb.query("UPDATE deliveries SET state = 'unknown' WHERE message_key LIKE ?", [f"removal-{u.user_id}-%"])

    sb.clock.advance(hours=1)
    again = apply(sb)

    assert [line.split()[0] for line in again.lines if line.startswith("notified")] == ["notified"]
    assert sb.query("SELECT state FROM deliveries WHERE message_key LIKE ?",
                    [f"removal-{u.user_id}-%"]) == [("sent",)]
    assert inbox.count(email) == 3


# -- 4. plexapi's own exceptions are one user's counted failure -------------------------------------------------

class LibraryMissingOnPlexTv(PlexTvSandbox):
    """plex.tv's /api/servers/{id} leaves out one of the PMS libraries (plexapi then raises KeyError)."""

    hide = False

    def _server(self, request, mid):
        if not self.hide:
            return super()._server(request, mid)
        world = self.world
        self.world = copy.copy(world)
        self.world.sections = world.sections[1:]
        try:
            return super()._server(request, mid)
        finally:
            self.world = world


class MissingLibrarySandbox(EnforceSandbox):
    def __enter__(self):
        self.tautulli.start()
        self.pms.start()
        self.tv = LibraryMissingOnPlexTv(self.world, pms_url=self.pms.url).start()
        return self


def test_a_plexapi_key_error_is_a_recorded_counted_failure_not_a_traceback(tmp_path):
    with MissingLibrarySandbox(tmp_path) as sb:
        sb.ingest()
        warned_then_due(sb)
        sb.tv.hide = True

        failed = apply(sb)

        assert failed.failures == len(DUE) and unshared(sb) == set()
        for n in DUE:
            _, removed_at, attempts, error = state(sb, sb.user(n).user_id)
            assert removed_at is None and attempts == 1
            assert error.startswith("plexapi failed unsharing user") and "KeyError" in error and "\n" not in error
        # the run finished and recorded its failures (status "failed"), it did not stop on a traceback
        assert sb.query("SELECT status FROM enforce_runs ORDER BY run_id DESC LIMIT 1") == [("failed",)]

        sb.tv.hide = False
        sb.clock.advance(hours=1)
        assert apply(sb).failures == 0 and unshared(sb) == {sb.user(n).user_id for n in DUE}


def test_a_plex_url_reaching_another_server_unshares_nobody(tmp_path):
    from pipeline.run.enforce import run_enforce
    from tests.fixtures.enforce_sandbox import EnforceSandbox

    with EnforceSandbox(tmp_path) as sb:
        sb.ingest()
        with sb.store() as store:
            run_enforce(store, sb.settings(), sb.clock, apply=True, scope="users")  # the warnings
        sb.clock.advance(days=4)
        sb.ingest()
        sb.world.machine_identifier = "e" * 40  # from now on PLEX_URL reaches another of the owner's servers
        with sb.store() as store:
            result = run_enforce(store, sb.settings(**{"users.max_data_age_hours": 200}), sb.clock, apply=True,
                                 scope="users")
        assert result.failures > 0 and any("describes" in line for line in result.lines)
        assert [r for r in sb.tv.requests if r.method == "DELETE"] == []
        assert sb.query("SELECT count(*) FROM member_states WHERE removed_at IS NOT NULL") == [(0,)]
