"""`invoke enforce --apply` on the retention queue, end to end over loopback: Tautulli, Plex, Sonarr and Radarr
sandboxes driven by unmodified plexapi and requests. The seeded world labels two movies and a show for users who
watched them; the tests assert the exact calls made to each server and their order across servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.store.audit import trail
from tests.fixtures.media_sandbox import MediaSandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sb(tmp_path):
    with MediaSandbox(tmp_path) as sandbox:
        yield sandbox


def due_keys(sb: MediaSandbox, queued: list[tuple]) -> list[int]:
    return sorted(rk for rk, _, at in queued if at <= sb.clock.now())


def test_apply_cascades_to_sonarr_and_radarr_before_plex_deletes_each_due_item(sb):
    queued = sb.queue_then_wait()
    due = due_keys(sb, queued)
    assert {t for _, t, _ in queued} == {"movie", "episode"} and len(due) > 2
    shows = {sb.world.items[rk].grandparent_rating_key for rk, t, _ in queued if t == "episode"}

    result = sb.enforce()
    assert result.refusals == [] and result.failures == 0

    assert sorted(sb.plex_deletes()) == due  # exactly the due items, each once; nothing waiting, no show
    rows = {r[0]: r for r in sb.query(
        "SELECT rating_key, state, arr, arr_id, arr_unmonitored, arr_file_deleted, plex_deleted, size_bytes "
        "FROM media_deletions")}
    assert sorted(rows) == due and {r[1] for r in rows.values()} == {"done"}
    for rk in due:
        _, _, app, arr_id, unmonitored, file_deleted, _, _ = rows[rk]
        server = sb.radarr if app == "radarr" else sb.sonarr
        plex_delete = next(r.seq for r in sb.pms.requests if r.method == "DELETE" and r.path.endswith(f"/{rk}"))
        if app == "radarr":
            editor = [r for r in sb.radarr.requests if r.path == "/api/v3/movie/editor"
                      and json.loads(r.body)["movieIds"] == [arr_id]]
            assert len(editor) == 1 and json.loads(editor[0].body)["monitored"] is False
            cascade = editor + [r for r in server.requests if r.method == "DELETE"
                                and r.path == f"/api/v3/moviefile/{sb.radarr.movie_for(rk)['movieFile']['id']}"
                                ] if sb.radarr.movie_for(rk).get("movieFile") else editor
        else:
            monitor = [r for r in sb.sonarr.requests if r.path == "/api/v3/episode/monitor"
                       and json.loads(r.body)["episodeIds"] == [arr_id]]
            assert len(monitor) == 1 and json.loads(monitor[0].body)["monitored"] is False
            cascade = monitor
        assert unmonitored and file_deleted
        assert all(r.seq < plex_delete for r in cascade), f"{rk}: Plex was deleted before the cascade"
    # Only single episodes and movies were unmonitored: never a whole series.
    assert not [r for r in sb.sonarr.requests if r.method == "PUT" and r.path.startswith("/api/v3/series")]
    assert all(not e["monitored"] for rk in due if rows[rk][2] == "sonarr"
               for e in [sb.sonarr.episode_for(rk) or {"monitored": False}])

    # Per episode: the show and its unwatched episodes stay.
    assert all(show in sb.world.items for show in shows)
    assert any(i.type == "episode" and i.grandparent_rating_key in shows for i in sb.world.items.values())
    freed = sum(rows[rk][7] for rk in due)
    with sb.store() as store:
        for rk in due:
            phases = [(t["action"], t["phase"]) for t in trail(store, "media", rk)]
            assert ("queue", "planned") in phases and ("delete", "started") in phases and ("delete", "done") in phases
        outcome = [t["outcome"] for rk in due for t in trail(store, "media", rk) if t["phase"] == "done"]
    assert sum(o["bytes_freed"] for o in outcome) == freed
    assert any(f"{freed / 1e9:.1f} GB freed" in line for line in result.lines)


def test_a_rerun_deletes_nothing_twice_and_calls_no_arr_write(sb):
    sb.queue_then_wait()
    sb.enforce()
    before = (len(sb.plex_deletes()), sb.writes(sb.sonarr), sb.writes(sb.radarr))
    sb.ingest()
    again = sb.enforce()
    assert again.failures == 0
    assert (len(sb.plex_deletes()), sb.writes(sb.sonarr), sb.writes(sb.radarr)) == before
    assert sb.query("SELECT count(*) FROM media_queue WHERE rating_key IN (SELECT rating_key FROM media_deletions)") \
        == [(0,)]


def test_a_dry_run_lists_what_is_due_and_touches_no_server(sb):
    queued = sb.queue_then_wait()
    result = sb.enforce(apply=False)
    due = due_keys(sb, queued)
    assert sum(line.startswith("would delete") for line in result.lines) == len(due)
    assert sb.plex_deletes() == [] and sb.sonarr.requests == [] and sb.radarr.requests == []
    assert sb.query("SELECT count(*) FROM media_deletions") == [(0,)]


def test_an_item_being_played_is_held_and_deleted_on_a_later_run(sb):
    queued = sb.queue_then_wait()
    movie = next(rk for rk, t, at in queued if t == "movie" and at <= sb.clock.now())
    viewer = sb.world.users[1].user_id
    sb.world.activity.append({"session_key": 1, "rating_key": movie, "user_id": viewer})
    result = sb.enforce()
    assert movie not in sb.plex_deletes() and any("playing" in line for line in result.lines)
    assert not [r for r in sb.radarr.requests if r.method != "GET"] or all(
        json.loads(r.body).get("movieIds") != [sb.radarr.movie_for(movie)["id"]]
        for r in sb.radarr.requests if r.path == "/api/v3/movie/editor")
    with sb.store() as store:
        assert ("delete", "skipped") in [(t["action"], t["phase"]) for t in trail(store, "media", movie)]
    sb.world.activity.clear()
    sb.enforce()
    assert sb.plex_deletes().count(movie) == 1


def test_an_item_that_vanished_from_plex_is_skipped_not_deleted(sb):
    queued = sb.queue_then_wait()
    movie = next(rk for rk, t, at in queued if t == "movie" and at <= sb.clock.now())
    del sb.world.items[movie]  # gone since the last ingest (deleted by hand in Plex)
    sb.pms._generation += 1
    result = sb.enforce()
    assert movie not in sb.plex_deletes() and any(line.startswith("gone") for line in result.lines)
    assert sb.query("SELECT count(*) FROM media_deletions WHERE rating_key = ?", [movie]) == [(0,)]
    assert not [r for r in sb.radarr.requests if r.method != "GET" and "editor" in r.path
                and json.loads(r.body)["movieIds"] == [(sb.radarr.movie_for(movie) or {}).get("id")]]


def test_plex_delete_failing_is_recorded_partial_and_finished_next_run_without_repeating_the_cascade(sb):
    queued = sb.queue_then_wait()
    movie = min(rk for rk, t, at in queued if t == "movie" and at <= sb.clock.now())
    # GET (fetch) answers, the DELETE that follows fails.
    sb.pms.fail("status", status=500, path=f"/library/metadata/{movie}", skip=1, times=1)
    first = sb.enforce()
    assert first.failures == 1
    state, plex_deleted, unmonitored, error = sb.query(
        "SELECT state, plex_deleted, arr_unmonitored, last_error FROM media_deletions WHERE rating_key = ?", [movie])[0]
    assert (state, plex_deleted, unmonitored) == ("partial", False, True)
    assert "Plex delete" in error and "Radarr unmonitored" in error
    radarr_writes = sb.writes(sb.radarr)

    sb.pms.heal()
    second = sb.enforce()
    assert second.failures == 0
    assert sb.plex_deletes().count(movie) == 2 and sb.pms.deleted.count(movie) == 1  # the failed one, the retry
    assert sb.writes(sb.radarr) == radarr_writes  # unmonitor and file delete were not sent again
    assert sb.query("SELECT state FROM media_deletions WHERE rating_key = ?", [movie]) == [("done",)]


def test_sonarr_down_skips_its_part_then_a_later_run_completes_it(sb):
    queued = sb.queue_then_wait()
    episodes = sorted(rk for rk, t, at in queued if t == "episode" and at <= sb.clock.now())
    sb.sonarr.fail("down")
    first = sb.enforce()
    assert set(episodes) <= set(sb.plex_deletes())  # the rule: Plex goes ahead, Sonarr's part waits
    assert first.failures == len(episodes)
    rows = sb.query("SELECT DISTINCT state, arr_unmonitored FROM media_deletions WHERE media_type = 'episode'")
    assert rows == [("partial", False)]
    assert "Sonarr" in sb.query("SELECT last_error FROM media_deletions WHERE media_type = 'episode' LIMIT 1")[0][0]

    sb.sonarr.heal()
    deletes = len(sb.plex_deletes())
    second = sb.enforce()
    assert second.failures == 0 and len(sb.plex_deletes()) == deletes
    monitored = [json.loads(r.body)["episodeIds"][0] for r in sb.sonarr.requests
                 if r.path == "/api/v3/episode/monitor"]
    assert len(monitored) == len(episodes) == len(set(monitored))
    assert sb.query("SELECT DISTINCT state FROM media_deletions WHERE media_type = 'episode'") == [("done",)]


@pytest.mark.slow
def test_a_kill_between_the_cascade_and_the_plex_delete_converges_without_doubles(sb):
    queued = sb.queue_then_wait()
    due = due_keys(sb, queued)
    env = {**sb.env(), "PYTHONPATH": str(ROOT)}
    child = subprocess.run([sys.executable, "-m", "tests.fixtures.enforce_child", "--now", sb.clock.now().isoformat(),
                            "--scope", "media", "--kill-on", "cascaded", "--kill-at", "2"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert len(sb.plex_deletes()) == 1  # the first item finished; the second was cascaded, not deleted in Plex
    killed = sb.query("SELECT rating_key, arr_unmonitored, plex_deleted FROM media_deletions WHERE NOT plex_deleted")
    assert len(killed) == 1 and killed[0][1] is True

    result = sb.enforce()
    assert result.failures == 0
    assert sorted(sb.plex_deletes()) == due
    for server, path, key in ((sb.radarr, "/api/v3/movie/editor", "movieIds"),
                              (sb.sonarr, "/api/v3/episode/monitor", "episodeIds")):
        ids = [json.loads(r.body)[key][0] for r in server.requests if r.path == path]
        assert len(ids) == len(set(ids)), f"{path} sent twice for the same item"
    with sb.store() as store:
        phases = [t["phase"] for t in trail(store, "media", killed[0][0]) if t["action"] == "delete"]
    assert phases.count("started") == 2 and phases[-1] == "done"


def test_stale_data_refuses_and_nothing_is_deleted(sb):
    sb.queue_then_wait()
    sb.clock.advance(hours=30)  # no ingest since: older than max_data_age_hours
    result = sb.enforce()
    assert result.refusals and "ingest" in result.refusals[0]
    assert sb.plex_deletes() == [] and sb.writes(sb.sonarr) == [] and sb.writes(sb.radarr) == []
    with pytest.raises(Exception) as exc:
        import pipeline.run.commands as commands
        commands.enforce(sb.settings(), sb.clock, apply=True, scope="media")
    assert getattr(exc.value, "exit_code", None) == 3


def test_the_caps_hold_and_the_rest_waits_for_the_next_run(sb):
    queued = sb.queue_then_wait()
    due = due_keys(sb, queued)
    result = sb.enforce(**{"retention.max_deletions_per_run": 2})
    assert len(sb.plex_deletes()) == 2 and sum("max_deletions_per_run" in line for line in result.lines) == len(due) - 2
    sizes = dict(sb.query("SELECT rating_key, size_bytes FROM media_queue"))
    smallest_next = min(sizes.values())
    sb.enforce(**{"retention.max_bytes_per_run": smallest_next})
    assert len(sb.plex_deletes()) <= 3


def test_an_item_plex_lists_again_after_we_deleted_it_is_reported_once_and_never_deleted_again(sb):
    queued = sb.queue_then_wait()
    movie = min(rk for rk, t, at in queued if t == "movie" and at <= sb.clock.now())
    item = sb.world.items[movie]
    sb.enforce()
    assert sb.plex_deletes().count(movie) == 1
    sb.world.items[movie] = replace(item, updated_at=item.updated_at + 1)  # e.g. restored from a backup
    for section in sb.world.sections:
        section.updated_at += 1
    sb.pms._generation += 1
    sb.clock.advance(hours=1)
    sb.ingest()
    dry = sb.enforce(apply=False)  # says so, but only an applied run's notice counts as telling the admin
    first = sb.enforce()
    second = sb.enforce()
    assert sb.plex_deletes().count(movie) == 1
    assert sum("relisted" in line for line in dry.lines) == 1
    assert sum("relisted" in line for line in first.lines) == 1 and not any("relisted" in l for l in second.lines)
    assert sb.query("SELECT state FROM media_deletions WHERE rating_key = ?", [movie]) == [("relisted",)]


def test_plex_refusing_media_deletion_stops_before_any_cascade(sb):
    sb.pms.allow_media_deletion = False
    sb.queue_then_wait()
    result = sb.enforce()
    assert result.refusals and "Allow media deletion" in result.refusals[0]
    assert sb.writes(sb.sonarr) == [] and sb.writes(sb.radarr) == [] and sb.plex_deletes() == []


def test_a_plex_url_pointing_at_another_server_refuses_ingest_and_deletion(sb):
    sb.queue_then_wait()
    sb.world.machine_identifier = "f" * 40  # PLEX_URL now reaches another of the owner's servers
    sb.ingest()
    assert sb.query("SELECT plex_skipped FROM ingest_runs ORDER BY run_id DESC LIMIT 1")[0][0].startswith(
        "PLEX_URL reaches Plex server")
    result = sb.enforce(**{"users.max_data_age_hours": 48})
    assert result.refusals and "describes" in result.refusals[0]
    assert sb.plex_deletes() == [] and sb.writes(sb.sonarr) == [] and sb.writes(sb.radarr) == []


def test_an_ingest_that_skipped_plex_is_not_fresh_enough_to_delete(sb):
    sb.queue_then_wait()  # the last full ingest is now
    sb.clock.advance(hours=25)
    sb.pms.fail("down")
    sb.ingest()  # Tautulli fresh, Plex skipped
    sb.pms.heal()
    result = sb.enforce()
    assert result.refusals and "ingest" in result.refusals[0] and sb.plex_deletes() == []


def test_an_episode_sharing_its_file_with_one_not_due_is_held(sb):
    queued = sb.queue_then_wait()
    due = due_keys(sb, queued)
    episode = min(rk for rk, t, _ in queued if t == "episode" and rk in due)
    show = sb.world.items[episode].grandparent_rating_key
    sibling = next(i.rating_key for i in sorted(sb.world.items.values(), key=lambda i: i.rating_key)
                   if i.type == "episode" and i.grandparent_rating_key == show and i.rating_key not in due
                   and sb.sonarr.episode_for(i.rating_key))
    data = sb.sonarr.data  # a double episode: the sibling's episode row points at the same file
    data.episodes[data.episodes_by_rk[sibling]]["episodeFileId"] = sb.sonarr.episode_for(episode)["episodeFileId"]
    result = sb.enforce()
    assert episode not in sb.plex_deletes() and any("also holds" in line for line in result.lines)
    assert sb.sonarr.episode_for(sibling)["hasFile"] is not False
    assert set(due) - {episode} == set(sb.plex_deletes())


@pytest.mark.slow
def test_a_plex_delete_that_timed_out_but_went_through_finishes_the_cascade_later(sb):
    queued = sb.queue_then_wait()
    movie = min(rk for rk, t, at in queued if t == "movie" and at <= sb.clock.now() and sb.radarr.movie_for(rk))
    sb.radarr.fail("down")
    sb.pms.fail("slow", delay=3, path=f"/library/metadata/{movie}", skip=1, times=1)  # the DELETE, after the GET
    first = sb.enforce(**{"plex.timeout_seconds": 1})
    for _ in range(100):  # the sandbox finishes the DELETE after the client gave up on it
        if movie in sb.pms.deleted:
            break
        time.sleep(0.1)
    assert first.failures >= 1 and movie in sb.pms.deleted  # Plex did it; we never heard
    sb.radarr.heal()
    sb.clock.advance(hours=1)
    sb.ingest()
    second = sb.enforce()
    assert second.failures == 0
    state, plex_deleted, unmonitored = sb.query(
        "SELECT state, plex_deleted, arr_unmonitored FROM media_deletions WHERE rating_key = ?", [movie])[0]
    assert (state, plex_deleted, unmonitored) == ("done", True, True)
    assert sb.pms.deleted.count(movie) == 1 and sb.radarr.movie_for(movie)["monitored"] is False
