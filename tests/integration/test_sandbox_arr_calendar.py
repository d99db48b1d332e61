"""The sandbox calendars (GET /api/v3/calendar), driven with plain requests over loopback as Sonarr and Radarr
document them: the window, the unmonitored flag, includeSeries, and a bad date."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from pipeline.ingest.calendar import ingest_calendars
from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox
from pipeline.sandbox.arr_seed import UPCOMING_MOVIES, UPCOMING_SHOW
from pipeline.sandbox.seed import generate
from pipeline.settings import load_settings
from pipeline.store import open_store


@pytest.fixture(scope="module")
def world():
    return generate(seed=1, users=6, plays=200)


def calendar(server, **params):
    return requests.get(f"{server.url}/api/v3/calendar", params=params, headers={"X-Api-Key": server.api_key},
                        timeout=5)


def iso(world, days: float) -> str:
    return (datetime.fromtimestamp(world.now, timezone.utc) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_sonarr_lists_what_airs_in_the_window_monitored_only_with_its_series(world):
    with SonarrSandbox(world, upcoming=True) as sonarr:
        got = calendar(sonarr, start=iso(world, 0), end=iso(world, 14), unmonitored="false", includeSeries="true")
        assert got.status_code == 200
        rows = got.json()
        assert rows and all(iso(world, 0) <= r["airDateUtc"] <= iso(world, 14) for r in rows)
        assert [r["airDateUtc"] for r in rows] == sorted(r["airDateUtc"] for r in rows)
        assert UPCOMING_SHOW[0] in {r["series"]["title"] for r in rows} and not any(r["hasFile"] for r in rows)
        first = rows[0]
        sonarr.data.episodes[first["id"]]["monitored"] = False
        again = calendar(sonarr, start=iso(world, 0), end=iso(world, 14), unmonitored="false").json()
        assert first["id"] not in {r["id"] for r in again} and "series" not in again[0]
        both = calendar(sonarr, start=iso(world, 0), end=iso(world, 14), unmonitored="true").json()
        assert first["id"] in {r["id"] for r in both}
        assert calendar(sonarr, start="soon").status_code == 400


def test_radarr_lists_movies_released_in_the_window(world):
    with RadarrSandbox(world, upcoming=True) as radarr:
        rows = calendar(radarr, start=iso(world, 0), end=iso(world, 14), unmonitored="false").json()
        assert [r["title"] for r in rows] == [t for t, _, days in UPCOMING_MOVIES if days <= 14]
        assert all(not r["hasFile"] and r["monitored"] for r in rows)
    with RadarrSandbox(world) as plain:  # without upcoming=True Radarr mirrors Plex: nothing is coming
        assert calendar(plain, start=iso(world, 0), end=iso(world, 14)).json() == []


def test_an_app_that_is_down_keeps_the_calendar_read_last_time(world, tmp_path):
    now = datetime.fromtimestamp(world.now, timezone.utc)
    with SonarrSandbox(world, upcoming=True) as sonarr, RadarrSandbox(world, upcoming=True) as radarr:
        settings = load_settings(environ={"SONARR_URL": sonarr.url, "SONARR_API_KEY": sonarr.api_key,
                                          "RADARR_URL": radarr.url, "RADARR_API_KEY": radarr.api_key,
                                          "MARQUEE_DATA_DIR": str(tmp_path)}, dotenv_path=None,
                                 overrides={"sonarr.timeout_seconds": 2})
        with open_store(settings) as store:
            def titles():
                return sorted({t for (t,) in store.con.execute("SELECT title FROM arr_calendar").fetchall()})

            first = ingest_calendars(store, settings, now)
            before = titles()
            assert UPCOMING_SHOW[0] in before and UPCOMING_MOVIES[0][0] in before
            sonarr.fail("down")
            radarr.data.movies[next(m for m, v in radarr.data.movies.items()
                                    if v["title"] == UPCOMING_MOVIES[0][0])]["monitored"] = False
            second = ingest_calendars(store, settings, now)
            after = titles()
    assert first[0].startswith("Sonarr calendar: ") and second[0].startswith("Sonarr calendar skipped: ")
    assert UPCOMING_SHOW[0] in after                      # Sonarr's rows stay as read last time
    assert UPCOMING_MOVIES[0][0] not in after             # Radarr's are replaced by what it says now
