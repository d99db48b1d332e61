"""Which libraries would hold a coming title (sql/issues/coming_soon.sql), and who may see it
(render/libraries.only_libraries): the deepest library folder holding the *arr folder, else every library of the
title's type, and a reader sees it only if they can open all of those."""

from __future__ import annotations

from datetime import timedelta

from pipeline.render.libraries import only_libraries
from pipeline.stats.queries import run
from tests.fixtures.stats_world import INGESTED, PERIOD, TZ, build, insert

SOON = PERIOD.end + timedelta(days=3)


def coming(rows: list[dict]) -> dict[str, list[int]]:
    store = build()
    try:
        for sid, folders in ((1, ["/media/movies"]), (2, ["/media/tv"]), (4, ["/media/movies/4k"])):
            store.con.execute("UPDATE plex_sections SET locations = ? WHERE section_id = ?", [folders, sid])
        store.con.execute("INSERT INTO plex_sections (section_id, title, type, locations, last_listed_at) "
                          "VALUES (5, 'Kids TV', 'show', NULL, ?)", [INGESTED])
        insert(store, "arr_calendar", [dict(listed_at=INGESTED, air_at=SOON, **r) for r in rows])
        got = run(store, "issues/coming_soon", {"from": PERIOD.end, "until": PERIOD.end + timedelta(days=14),
                                                "tz": TZ, "limit": 10})
        return {r["title"]: r["sections"] for r in got}
    finally:
        store.close()


def test_the_deepest_library_folder_holding_the_title_decides():
    got = coming([
        dict(item_key="radarr:movie:1", kind="movie", title="Sharp", series_id=1, path="/media/movies/4k/Sharp (2026)"),
        dict(item_key="radarr:movie:2", kind="movie", title="Plain", series_id=2, path="/media/movies/Plain (2026)"),
        dict(item_key="radarr:movie:3", kind="movie", title="Lookalike", series_id=3,
             path="/media/movies-old/Lookalike (2026)"),  # a folder that only starts like /media/movies
    ])
    assert got["Sharp"] == [4] and got["Plain"] == [1]
    assert got["Lookalike"] == [1, 4]  # no folder holds it: every movie library could


def test_an_unmatched_show_could_be_in_every_show_library_and_needs_them_all():
    got = coming([dict(item_key="sonarr:episode:7", kind="episode", title="Elsewhere", series_id=7, season=1,
                       episode=1, path="/tv/Elsewhere")])  # Sonarr sees another mount than Plex
    assert got["Elsewhere"] == [2, 5]
    snapshot = {"coming_soon": {"days": 14, "items": [{"title": "Elsewhere", "sections": got["Elsewhere"]}]}}
    assert only_libraries(snapshot, {}, {1, 2, 3, 4})["coming_soon"]["items"] == []  # no Kids TV: not shown
    assert len(only_libraries(snapshot, {}, {2, 5})["coming_soon"]["items"]) == 1
    assert only_libraries(snapshot, {}, None)["coming_soon"]["items"]  # every library
