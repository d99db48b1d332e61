"""Plex's own watch state (issue #13 item 4): assignees mark titles watched in Plex through plexapi as themselves,
Marquee reads it with their own tokens from plex.tv over loopback, and the queue follows it, per episode."""

from __future__ import annotations

import numpy as np
import pytest
from plexapi.myplex import MyPlexAccount
from plexapi.server import PlexServer

from pipeline.clients.plex import make_session
from pipeline.clients.plex_watch import CHUNK
from pipeline.media.commands import assign, queue_lines
from pipeline.policy.media import PLEX_ONLY
from pipeline.run.enforce import run_enforce
from tests.fixtures.enforce_sandbox import EnforceSandbox


def _unplayed(world, type_: str, n: int = 1, **where):
    """Items of this type nobody has any play of (so Tautulli cannot count them), in rating-key order."""
    played = set(world.plays.cols["rating_key"].tolist())
    found = [i for i in sorted(world.items.values(), key=lambda i: i.rating_key)
             if i.type == type_ and i.rating_key not in played and all(getattr(i, k) == v for k, v in where.items())]
    return found[:n]


def _show_unplayed_by(world, users):
    """A show with at least three episodes, none of which these users have played."""
    ids = [u.user_id for u in users]
    cols = world.plays.cols
    played = set(cols["rating_key"][np.isin(cols["user_id"], ids)].tolist())
    for show in sorted((i for i in world.items.values() if i.type == "show"), key=lambda i: i.rating_key):
        leaves = world.leaves(show.rating_key)
        if len(leaves) >= 3 and not played & {e.rating_key for e in leaves}:
            return show, leaves
    raise AssertionError("the seed has no show these users never played")


def _readers(world, n: int):
    """Shared users (not the owner) with every library, in Tautulli, with unique usernames."""
    return [u for u in sorted(world.users, key=lambda u: u.user_id)
            if not u.is_owner and u.has_share and u.share_id and u.all_libraries and u.in_tautulli
            and not u.is_restricted and u.accepted_at][:n]


class WatchSandbox(EnforceSandbox):
    def as_user(self, username: str) -> PlexServer:
        """PlexServer with the user's own token, got from plex.tv the way plexapi does (MyPlexUser.get_token)."""
        settings = self.settings()
        session = make_session(settings.plex)
        account = MyPlexAccount(token=self.world.owner_token, session=session)
        token = account.user(username).get_token(self.world.machine_identifier)
        assert token, f"plex.tv gave no token for {username}"
        return PlexServer(self.pms.url, token, session=session)

    def mark(self, username: str, rating_key: int, watched: bool = True) -> None:
        item = self.as_user(username).fetchItem(rating_key)
        item.markWatched() if watched else item.markUnwatched()

    def assign(self, target: int, *users: str) -> None:
        with self.store() as store:
            assign(store, self.settings(), self.clock, str(target), list(users))

    def queue(self) -> list[str]:
        with self.store() as store:
            return queue_lines(store, self.settings(), self.clock)

    def queued(self) -> dict[int, str]:
        return dict(self.query("SELECT rating_key, reason FROM media_queue"))


@pytest.fixture
def sb(tmp_path):
    with WatchSandbox(tmp_path, **{"retention.file": str(tmp_path / "retention.toml")}) as sandbox:
        sandbox.ingest()
        yield sandbox


def test_a_title_every_assignee_marked_watched_in_plex_is_queued_then_not_once_unmarked(sb):
    movie = _unplayed(sb.world, "movie")[0]
    alice, bob = _readers(sb.world, 2)
    sb.assign(movie.rating_key, alice.username, bob.username)
    sb.ingest()
    assert movie.rating_key not in sb.queued()

    sb.mark(alice.username, movie.rating_key)
    sb.ingest()
    sb.queue()
    assert movie.rating_key not in sb.queued(), "one of two assignees watched it"

    sb.mark(bob.username, movie.rating_key)
    sb.ingest()
    # The audit says which source counted.
    with sb.store() as store:
        run = run_enforce(store, sb.settings(), sb.clock, apply=False, scope="media")
    audit = sb.query("SELECT reason FROM audit WHERE run_id = ? AND subject_id = ? AND action = 'queue'",
                     [run.run_id, movie.rating_key])
    assert audit and audit[0][0].count(PLEX_ONLY) == 2, audit
    lines = sb.queue()
    reason = sb.queued()[movie.rating_key]
    assert reason.count(PLEX_ONLY) == 2, reason
    assert any(movie.title in line and PLEX_ONLY in line for line in lines)
    # Only the state was stored, never a token.
    stored = sb.query("SELECT user_id, view_count FROM plex_watch_state WHERE rating_key = ? ORDER BY user_id",
                      [movie.rating_key])
    assert stored == sorted([(alice.user_id, 1), (bob.user_id, 1)])
    dump = str(sb.query("SELECT * FROM plex_watch_state")) + str(sb.query("SELECT * FROM plex_watch_unread"))
    assert sb.world.share_token(alice.user_id) not in dump

    sb.mark(bob.username, movie.rating_key, watched=False)
    sb.ingest()
    sb.queue()
    assert movie.rating_key not in sb.queued(), "bob marked it unwatched again"


def test_without_plex_in_watch_sources_a_mark_in_plex_counts_for_nothing(sb):
    movie = _unplayed(sb.world, "movie")[0]
    (alice,) = _readers(sb.world, 1)
    sb.assign(movie.rating_key, alice.username)
    sb.mark(alice.username, movie.rating_key)
    sb.ingest(**{"retention.watch_sources": ["tautulli"]})
    with sb.store() as store:
        queue_lines(store, sb.settings(**{"retention.watch_sources": ["tautulli"]}), sb.clock)
    assert movie.rating_key not in sb.queued()
    assert sb.query("SELECT count(*) FROM plex_watch_state") == [(0,)]
    sb.ingest()
    sb.queue()
    assert movie.rating_key in sb.queued()


def test_a_user_whose_token_cannot_be_had_is_reported_and_counts_as_not_watched(sb, caplog):
    movie = _unplayed(sb.world, "movie")[0]
    alice, bob, carol = _readers(sb.world, 3)
    sb.assign(movie.rating_key, alice.username, bob.username, carol.username)
    for user in (alice, bob, carol):
        sb.mark(user.username, movie.rating_key)
    sb.ingest()
    sb.queue()
    assert movie.rating_key in sb.queued()

    sb.pms.revoked.add(bob.user_id)   # PMS answers 401 to bob's token
    carol.has_share = False           # plex.tv lists no share for carol: no token at all
    caplog.set_level("DEBUG")
    sb.ingest()
    lines = sb.queue()
    assert movie.rating_key not in sb.queued(), "two of three could not be read: what was read before is not kept"
    warnings = [r.getMessage() for r in caplog.records if "Plex watch state not read" in r.getMessage()]
    names = dict(sb.query("SELECT user_id, friendly_name FROM users"))
    assert len(warnings) == 1 and names[bob.user_id] in warnings[0] and names[carol.user_id] in warnings[0], warnings
    assert not any(sb.world.share_token(u.user_id) in caplog.text for u in (alice, bob, carol))
    unread = dict(sb.query("SELECT user_id, reason FROM plex_watch_unread"))
    assert set(unread) == {bob.user_id, carol.user_id}
    assert "401" in unread[bob.user_id] and "no share" in unread[carol.user_id]
    report = [line for line in lines if line.startswith("Plex watch state not read for")]
    assert len(report) == 1 and "counted as not watched" in report[0], lines
    with sb.store() as store:
        run = run_enforce(store, sb.settings(), sb.clock, apply=False, scope="media")
    assert sum(line.startswith("Plex watch state not read for") for line in run.lines) == 1

    sb.pms.revoked.clear()
    carol.has_share = True
    sb.ingest()
    sb.queue()
    assert movie.rating_key in sb.queued()
    assert sb.query("SELECT count(*) FROM plex_watch_unread") == [(0,)]


def test_plex_tv_failing_on_the_tokens_leaves_every_shared_assignee_unread(sb):
    movie = _unplayed(sb.world, "movie")[0]
    (alice,) = _readers(sb.world, 1)
    sb.assign(movie.rating_key, alice.username)
    sb.mark(alice.username, movie.rating_key)
    # The inventory's shared_servers listing goes through; the watch step's, for the tokens, fails.
    sb.tv.fail("status", status=503, path="/api/servers/", skip=1)
    sb.ingest()
    sb.queue()
    assert movie.rating_key not in sb.queued()
    (reason,) = sb.query("SELECT reason FROM plex_watch_unread WHERE user_id = ?", [alice.user_id])[0]
    assert reason.startswith("no token: plex.tv") and "503" in reason, reason
    assert sb.world.owner_token not in reason


def test_plex_tv_down_for_the_inventory_too_leaves_them_unread(sb):
    movie = _unplayed(sb.world, "movie")[0]
    (alice,) = _readers(sb.world, 1)
    sb.assign(movie.rating_key, alice.username)
    sb.mark(alice.username, movie.rating_key)
    sb.tv.fail("status", status=503, path="/api/servers/")
    sb.ingest()
    sb.queue()
    assert movie.rating_key not in sb.queued()
    (reason,) = sb.query("SELECT reason FROM plex_watch_unread WHERE user_id = ?", [alice.user_id])[0]
    assert reason.startswith("Plex not read: plex.tv") and "503" in reason, reason


def test_marking_one_episode_watched_counts_that_episode_only(sb):
    (alice,) = _readers(sb.world, 1)
    show, episodes = _show_unplayed_by(sb.world, [alice])
    sb.assign(show.rating_key, alice.username)
    sb.mark(alice.username, episodes[1].rating_key)
    sb.ingest()
    sb.queue()
    queued = sb.queued()
    assert episodes[1].rating_key in queued and PLEX_ONLY in queued[episodes[1].rating_key]
    assert not {e.rating_key for e in episodes if e is not episodes[1]} & set(queued)
    assert show.rating_key not in queued
    # What was read is each episode's own state, never the show's.
    read = {k for (k,) in sb.query("SELECT rating_key FROM plex_watch_state WHERE user_id = ?", [alice.user_id])}
    assert read == {e.rating_key for e in episodes}


def test_reads_are_batched_per_user_not_per_item(sb):
    alice, bob = _readers(sb.world, 2)
    show, episodes = _show_unplayed_by(sb.world, [alice, bob])
    sb.assign(show.rating_key, alice.username, bob.username)
    with sb.store() as store:
        wanted = {t["user_id"]: t["rating_keys"] for t in store.records("ingest/watch_state_targets")}
    assert set(e.rating_key for e in episodes) <= set(wanted[alice.user_id])
    sb.pms.clear_log()
    sb.ingest()
    reads = [r.path.rsplit("/", 1)[1] for r in sb.pms.requests if r.path.startswith("/library/metadata/")]
    assert len(reads) == sum(-(-len(keys) // CHUNK) for keys in wanted.values()), "one request per chunk of keys"
    for user in (alice, bob):
        assert ",".join(map(str, wanted[user.user_id])) in reads
    assert sorted(int(k) for r in reads for k in r.split(",")) == sorted(k for keys in wanted.values() for k in keys)


def test_the_owners_own_state_is_read_with_the_owner_token(sb):
    owner = sb.world.owner
    movie = _unplayed(sb.world, "movie")[0]
    sb.assign(movie.rating_key, owner.username)
    PlexServer(sb.pms.url, sb.world.owner_token).fetchItem(movie.rating_key).markWatched()
    sb.ingest()
    sb.queue()
    assert PLEX_ONLY in sb.queued()[movie.rating_key]
    assert sb.query("SELECT count(*) FROM plex_watch_unread") == [(0,)]


def test_plex_going_down_mid_read_stops_the_read_and_names_everyone_left(sb):
    movie = _unplayed(sb.world, "movie")[0]
    readers = _readers(sb.world, 3)
    sb.assign(movie.rating_key, *(u.username for u in readers))
    for user in readers:
        sb.mark(user.username, movie.rating_key)
    sb.ingest()
    with sb.store() as store:
        assignees = len(store.records("ingest/watch_state_targets"))
    sb.pms.fail("down", path="/library/metadata/")
    sb.pms.clear_log()
    sb.ingest()
    sb.queue()
    assert movie.rating_key not in sb.queued()
    reasons = [r for (r,) in sb.query("SELECT reason FROM plex_watch_unread")]
    assert len(reasons) == assignees and all(r.startswith("Plex not read: Plex at") for r in reasons), reasons
    assert len(sb.pms.requests_to("/library/metadata/")) == 1, "nobody after the first failure waits on Plex"
