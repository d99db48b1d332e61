"""Stop re-download, end to end over loopback (Tautulli, Plex, plex.tv, Sonarr, Radarr, Seerr sandboxes): after a
deletion the admin is told what could bring the title back (an open Seerr request, a series Sonarr still monitors),
and with retention.series_exclusion a whole series is unmonitored and excluded in Sonarr, after the Plex delete."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser

import numpy as np
import pytest

from tests.fixtures.seerr_sandbox import SeerrMediaSandbox


@pytest.fixture
def sb(tmp_path):
    with SeerrMediaSandbox(tmp_path) as sandbox:
        yield sandbox


def small_show(sb) -> int:
    """A show Sonarr has, with no labels and a handful of episodes: one run can delete it whole."""
    return next(rk for rk, item in sorted(sb.world.items.items())
                if item.type == "show" and sb.sonarr.series_for(rk) is not None and not item.labels
                and 2 <= len(sb.world.leaves(rk)) <= 12 and not any(e.labels for e in sb.world.leaves(rk)))


def watch_all(sb, uid: int, show: int) -> None:
    """uid finishes every episode of the show (new plays after the newest), and the clock moves past them."""
    eps = sb.world.leaves(show)
    cols = sb.world.plays.cols
    first_id, start = int(cols["id"].max()) + 1, int(cols["started"].max()) + 60
    n = len(eps)
    ids = np.arange(first_id, first_id + n)
    started = start + np.arange(n) * 4 * 3600
    seconds = np.array([min((e.duration_ms or 1_800_000) // 1000, 3 * 3600) for e in eps])
    sb.world.plays.append(id=ids, started=started, stopped=started + seconds, paused=np.zeros(n),
                          user_id=np.full(n, uid), rating_key=[e.rating_key for e in eps], percent=np.full(n, 100),
                          watched_status=np.ones(n), reference_id=ids, platform=np.zeros(n))
    sb.world.now = int(started[-1] + seconds[-1]) + 60
    sb.clock.advance(seconds=sb.world.now - sb.clock.now().timestamp() + 3600)


def sharer(sb) -> int:
    return next(u.user_id for u in sb.world.users if u.has_share and not u.is_owner and u.email and not u.note)


def report_lines(sb) -> str:
    """The text of every admin report the run e-mailed."""
    out = []
    for path in sb.mail.root.rglob("*.eml"):
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if "Enforcement run" in str(msg["Subject"]):
            out.append(" ".join(msg.get_body(("plain",)).get_content().split()))
    return "\n".join(out)


def test_an_open_season_request_is_reported_after_its_episodes_are_deleted(sb):
    watched = sb.watched()
    sharers = {u.user_id for u in sb.world.users if u.has_share and not u.is_owner and u.email}
    uid, show, season = next(
        (u, e.grandparent_rating_key, e.parent_rating_key) for u, k in sorted(watched)
        if u in sharers and (e := sb.world.items.get(k)) is not None and e.type == "episode"
        and sb.sonarr.series_for(e.grandparent_rating_key) is not None
        and not sb.world.items[e.grandparent_rating_key].labels
        and len(sb.world.children(e.grandparent_rating_key)) > 1)
    request = sb.seerr.request(sb.seerr.user_for(uid), show, seasons=(sb.world.items[season].index,))
    own = {e.rating_key for e in sb.world.children(season)}
    sb.queue_then_wait()
    result = sb.enforce()
    deleted = [k for k in sb.plex_deletes() if k in own]
    assert deleted and result.failures == 0
    warned = [line for line in result.lines if f"Seerr still has request #{request['id']} " in line]
    assert len(warned) == 1 and "(approved, by " in warned[0]
    titles = [t for (t,) in sb.query("SELECT title FROM media_deletions WHERE list_contains(?, rating_key)",
                                     [sorted(deleted)])]
    assert len(titles) == len(deleted) and all(t in warned[0] for t in titles)  # one line names them all
    assert f"request #{request['id']}" in report_lines(sb)  # the admin report says so too


def test_a_whole_series_still_monitored_in_sonarr_is_reported(sb):
    uid, show = sharer(sb), small_show(sb)
    episodes, title = {e.rating_key for e in sb.world.leaves(show)}, sb.world.items[show].title
    watch_all(sb, uid, show)
    sb.seerr.request(sb.seerr.user_for(uid), show)
    sb.queue_then_wait()
    result = sb.enforce()
    assert episodes <= set(sb.plex_deletes())
    warned = [line for line in result.lines if "still monitors the series" in line and title in line]
    assert warned == [f"re-download risk: {title}: Marquee deleted its last episode, but Sonarr still monitors the "
                      "series, so it downloads new (and missing) episodes again; unmonitor it in Sonarr, or set "
                      "retention.series_exclusion = true"]
    assert "still monitors the series" in report_lines(sb)
    assert not [r for r in sb.sonarr.requests if r.path in ("/api/v3/series/editor", "/api/v3/importlistexclusion")]
    assert sb.sonarr.data.series[sb.sonarr.series_for(show)["id"]]["monitored"] is True


def test_series_exclusion_unmonitors_and_excludes_the_series_after_the_last_plex_delete(sb):
    uid, show = sharer(sb), small_show(sb)
    series, title = sb.sonarr.series_for(show), sb.world.items[show].title
    episodes = {e.rating_key for e in sb.world.leaves(show)}
    watch_all(sb, uid, show)
    sb.seerr.request(sb.seerr.user_for(uid), show)
    sb.queue_then_wait()
    result = sb.enforce(**{"retention.series_exclusion": True})
    assert result.failures == 0 and not [line for line in result.lines if "re-download" in line and title in line]
    last_plex = max(r.seq for r in sb.pms.requests if r.method == "DELETE" and int(r.path.rsplit("/", 1)[1]) in episodes)
    writes = [(r.method, r.path, json.loads(r.body)) for r in sb.sonarr.requests
              if r.path in ("/api/v3/series/editor", "/api/v3/importlistexclusion")
              and series["id"] in json.loads(r.body).get("seriesIds", [])
              or json.loads(r.body or b"{}").get("tvdbId") == series["tvdbId"]]
    assert writes == [("PUT", "/api/v3/series/editor", {"seriesIds": [series["id"]], "monitored": False}),
                      ("POST", "/api/v3/importlistexclusion", {"tvdbId": series["tvdbId"], "title": series["title"]})]
    first = min(r.seq for r in sb.sonarr.requests if r.path == "/api/v3/series/editor"
                and json.loads(r.body)["seriesIds"] == [series["id"]])
    assert first > last_plex  # only once Plex no longer has any of it
    assert sb.sonarr.data.series[series["id"]]["monitored"] is False
    assert [x["tvdbId"] for x in sb.sonarr.exclusions.values()].count(series["tvdbId"]) == 1
    rows = sb.query("SELECT rating_key, series_excluded, state FROM media_deletions WHERE list_contains(?, rating_key)",
                    [sorted(episodes)])
    assert [r[2] for r in rows] == ["done"] * len(rows) and sum(r[1] for r in rows) == 1

    def ours() -> int:
        return sum(1 for r in sb.sonarr.requests if r.method in ("PUT", "POST") and r.body
                   and (json.loads(r.body).get("seriesIds") == [series["id"]]
                        or json.loads(r.body).get("tvdbId") == series["tvdbId"]))

    before = ours()
    sb.ingest()
    sb.enforce(**{"retention.series_exclusion": True})
    assert ours() == before == 2  # a second run does nothing more to the series


def test_a_request_whose_seerr_step_waits_for_seerr_is_not_reported(sb):
    uid, rk = sb.unlabelled_watched_movie()
    request = sb.seerr.request(sb.seerr.user_for(uid), rk)
    sb.queue_then_wait()
    sb.seerr.fail("down")
    result = sb.enforce()
    assert rk in sb.plex_deletes()
    assert not [line for line in result.lines if f"request #{request['id']} " in line]  # the next run clears it
    sb.seerr.heal()
    sb.enforce()
    assert sb.query("SELECT seerr FROM media_deletions WHERE rating_key = ?", [rk]) == [("cleared",)]


def test_a_show_without_a_tvdb_id_is_reported_never_marked_excluded(sb):
    """Sonarr knows a series by TVDB id: without one, Marquee cannot tell Sonarr lacks it, so it says so."""
    uid, show = sharer(sb), small_show(sb)
    series, title = sb.sonarr.series_for(show), sb.world.items[show].title
    sb.world.items[show].agentless = True  # before the first ingest: Plex lists the show with no Guid ids
    episodes = {e.rating_key for e in sb.world.leaves(show)}
    watch_all(sb, uid, show)
    sb.seerr.request(sb.seerr.user_for(uid), show)
    sb.queue_then_wait()
    result = sb.enforce(**{"retention.series_exclusion": True})
    assert episodes <= set(sb.plex_deletes())
    assert [line for line in result.lines if "no TVDB id" in line and title in line]
    rows = sb.query("SELECT series_excluded FROM media_deletions WHERE list_contains(?, rating_key)", [sorted(episodes)])
    assert rows and not any(r[0] for r in rows)
    assert not [r for r in sb.sonarr.requests if r.path in ("/api/v3/series/editor", "/api/v3/importlistexclusion")]
    assert sb.sonarr.data.series[series["id"]]["monitored"] is True
