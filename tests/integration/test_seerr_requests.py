"""Seerr requests become assignments and the deletion cascade ends in Seerr, end to end over loopback: Tautulli,
Plex, plex.tv, Sonarr, Radarr and Seerr sandboxes, driven through the CLI's functions (issue #13, item 1)."""

from __future__ import annotations

import json

import pytest

from pipeline.run import commands
from pipeline.run.commands import guarded
from tests.fixtures.seerr_sandbox import SeerrMediaSandbox


@pytest.fixture
def sb(tmp_path):
    with SeerrMediaSandbox(tmp_path) as sandbox:
        yield sandbox


def name_of(sb, uid: int) -> str:
    return sb.query("SELECT friendly_name FROM users WHERE user_id = ?", [uid])[0][0]


def test_a_request_by_alice_is_her_assignment_then_deleted_through_radarr_plex_and_seerr_in_order(sb, capsys):
    uid, rk = sb.unlabelled_watched_movie()
    media_id = sb.seerr.media_for(rk)["id"]
    sb.seerr.request(sb.seerr.user_for(uid), rk)
    queued = sb.queue_then_wait()

    assert (rk, uid, "request") in sb.query("SELECT target_rating_key, user_id, source FROM media_assignments")
    assert rk in [k for k, _, _ in queued]
    assert guarded(commands.retention, sb.settings(), "queue_lines", clock=sb.clock) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if sb.world.items[rk].title in l)
    assert f"requested by {name_of(sb, uid)}" in line

    movie = sb.radarr.movie_for(rk)
    movie_id, file_id = movie["id"], movie["movieFile"]["id"]
    result = sb.enforce()
    assert result.failures == 0 and rk in sb.plex_deletes()
    editor = next(r for r in sb.radarr.requests if r.path == "/api/v3/movie/editor"
                  and json.loads(r.body)["movieIds"] == [movie_id])
    file_delete = next(r for r in sb.radarr.requests if r.method == "DELETE" and r.path == f"/api/v3/moviefile/{file_id}")
    plex = next(r for r in sb.pms.requests if r.method == "DELETE" and r.path == f"/library/metadata/{rk}")
    seerr = [r for r in sb.seerr.requests if r.method == "DELETE" and r.path == f"/api/v1/media/{media_id}"]
    assert len(seerr) == 1 and editor.seq < file_delete.seq < plex.seq < seerr[0].seq
    assert sb.query("SELECT state, seerr, seerr_media_id FROM media_deletions WHERE rating_key = ?", [rk]) \
        == [("done", "cleared", media_id)]
    assert sb.seerr.media_for(rk) is None and not sb.seerr.requests_made  # requestable again

    # A second run does nothing more anywhere.
    before = (len(sb.plex_deletes()), sb.writes(sb.radarr), sb.writes(sb.sonarr), sb.writes(sb.seerr))
    sb.ingest()
    again = sb.enforce()
    assert again.failures == 0
    assert (len(sb.plex_deletes()), sb.writes(sb.radarr), sb.writes(sb.sonarr), sb.writes(sb.seerr)) == before


def test_seerr_down_leaves_the_deletion_partial_and_the_next_run_finishes_it(sb):
    uid, rk = sb.unlabelled_watched_movie()
    media_id = sb.seerr.media_for(rk)["id"]
    sb.seerr.request(sb.seerr.user_for(uid), rk)
    sb.queue_then_wait()
    sb.seerr.fail("down")
    result = sb.enforce()
    assert rk in sb.plex_deletes()
    state, error = sb.query("SELECT state, last_error FROM media_deletions WHERE rating_key = ?", [rk])[0]
    assert state == "partial" and "Plex deleted" in error and "Seerr skipped" in error
    assert any("Seerr" in line and "retried next run" in line for line in result.lines)

    sb.seerr.heal()
    sb.enforce()
    assert [r.path for r in sb.seerr.requests if r.method == "DELETE"].count(f"/api/v1/media/{media_id}") == 1
    assert sb.query("SELECT state, seerr FROM media_deletions WHERE rating_key = ?", [rk]) == [("done", "cleared")]
    assert sb.plex_deletes().count(rk) == 1


def test_a_requester_with_no_plex_user_is_reported_and_not_assigned(sb, capsys):
    _, rk = sb.unlabelled_watched_movie()
    stranger = sb.seerr.local_user("stranger@elsewhere.example", "stranger")
    sb.seerr.request(stranger, rk)
    sb.ingest()
    assert guarded(commands.retention, sb.settings(), "queue_lines", clock=sb.clock) == 0
    out = capsys.readouterr().out
    assert "Seerr requester 'stranger' matches no Plex user" in out and sb.world.items[rk].title in out
    assert sb.query("SELECT count(*) FROM media_assignments WHERE source = 'request'") == [(0,)]


def test_a_request_for_a_season_assigns_that_season_s_episodes_only(sb):
    watched = sb.watched()
    sharers = {u.user_id for u in sb.world.users if u.has_share and not u.is_owner and u.email}
    uid, show, season = next(
        (u, e.grandparent_rating_key, e.parent_rating_key) for u, k in sorted(watched)
        if u in sharers and (e := sb.world.items.get(k)) is not None and e.type == "episode"
        and not sb.world.items[e.grandparent_rating_key].labels
        and len(sb.world.children(e.grandparent_rating_key)) > 1)
    number = sb.world.items[season].index
    sb.seerr.request(sb.seerr.user_for(uid), show, seasons=(number,))
    sb.ingest()
    sb.enforce(apply=False)
    assert sb.query("SELECT target_rating_key FROM media_assignments WHERE source = 'request'") == [(season,)]
    own = {e.rating_key for e in sb.world.children(season)}
    queued = {rk for (rk,) in sb.query("SELECT rating_key FROM media_queue WHERE list_contains(user_ids, ?)", [uid])}
    others = {e.rating_key for e in sb.world.leaves(show)} - own
    watched_here = {k for u, k in watched if u == uid and k in own}
    assert watched_here and watched_here <= queued and not (queued & others)
    assert {k for k in own - watched_here} & queued == set()
