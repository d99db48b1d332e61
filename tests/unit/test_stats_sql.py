"""Every file in pipeline/sql/stats/ runs against the tiny world in stats_world.py and gives known answers."""

from datetime import date, timedelta

import pytest
from tests.fixtures.stats_world import (ALICE, BOB, CAROL, DAVE, ERIN, HEAT_4K, INGESTED, LOCAL, PERIOD, TZ, build,
                                        episode, insert, item, utc)

from pipeline.stats.periods import parse_period
from pipeline.stats.queries import params_of, run, stats_queries

PARAMS = {"start": PERIOD.start, "end": PERIOD.end, "prev_start": PERIOD.previous().start, "tz": TZ,
          "limit": 10, "min_viewers": 2, "title_slots": 16}
OVERRIDES = {"top_movies": {"limit": 2}}  # Up (third by every ranking) must fall off

# For each file: every column it returns, in order (the renderers' contract), then the
# columns checked here and the rows expected, in order. Worked out by hand from stats_world.py.
EXPECTED = {
    # -- the year in review's own files (worked out from the same world; a week stands in for the year) --
    "hours_by_month": (
        ["month", "plays", "seconds", "hours", "viewers"], ["month", "plays", "seconds", "viewers"],
        [("2026-11", 15, 40040, 4)],
    ),
    "user_binges": (
        ["user_id", "best_day", "best_day_seconds", "best_day_hours", "sitting_title", "sitting_started_at",
         "sitting_episodes", "sitting_seconds", "sitting_hours"],
        ["user_id", "best_day", "best_day_seconds", "sitting_title", "sitting_episodes", "sitting_seconds"],
        [(ALICE, date(2026, 11, 11), 6000, "Severance", 2, 6000),   # tied with Nov 12 (Alien): the earlier day
         (BOB, date(2026, 11, 9), 3600, "Severance", 1, 3000),      # Heat's two parts count on the day it began
         (CAROL, date(2026, 11, 12), 1200, None, None, None),
         (DAVE, date(2026, 11, 14), 7800, "Andor", 1, 2400)],       # E1 and E2 a day apart: two sittings
    ),
    "user_cowatchers": (
        ["user_id", "rank", "other_id", "shared", "overlap"], ["user_id", "rank", "other_id", "shared", "overlap"],
        [(ALICE, 1, BOB, 3, 0.6), (ALICE, 2, CAROL, 1, 0.25), (BOB, 1, ALICE, 3, 0.6), (BOB, 2, CAROL, 1, 0.25),
         (CAROL, 1, ALICE, 1, 0.25), (CAROL, 2, BOB, 1, 0.25)],
    ),
    "user_finished_shows": (
        ["user_id", "finished", "titles"], ["user_id", "finished", "titles"],
        [(DAVE, 1, ["Andor"])],   # E4 in W44, E1 and E2 in W46: every Andor episode Plex holds
    ),
    "user_genres": (
        ["user_id", "rank", "genre", "plays", "seconds", "hours"], ["user_id", "rank", "genre", "plays", "seconds"],
        [(ALICE, 1, "Thriller", 3, 9000), (ALICE, 2, "Drama", 2, 6000), (ALICE, 3, "Crime", 1, 3000),
         (BOB, 1, "Drama", 1, 3000), (BOB, 2, "Thriller", 1, 3000),   # Heat in 4K has no genres of its own
         (CAROL, 1, "Crime", 1, 1200), (CAROL, 2, "Thriller", 1, 1200)],
    ),
    "user_top_by_kind": (
        ["user_id", "title_kind", "rank", "title", "year", "rating_key", "plays", "seconds", "hours"],
        ["user_id", "title_kind", "rank", "title", "seconds"],
        [(ALICE, "artist", 1, "Daft Punk", 600), (ALICE, "movie", 1, "Alien", 6000), (ALICE, "movie", 2, "Heat", 3000),
         (ALICE, "show", 1, "Severance", 6000), (BOB, "artist", 1, "Daft Punk", 240), (BOB, "artist", 2, "Air", 200),
         (BOB, "movie", 1, "Heat", 3600), (BOB, "show", 1, "Severance", 3000), (CAROL, "movie", 1, "Heat", 1200),
         (DAVE, "movie", 1, "Up", 5400), (DAVE, "show", 1, "Andor", 4800)],
    ),
    "user_year_highlights": (
        ["user_id", "first_played_at", "first_day", "first_title", "last_played_at", "last_day", "last_title",
         "busiest_month", "busiest_hour", "place", "viewers", "top_percent"],
        ["user_id", "first_day", "first_title", "last_day", "last_title", "busiest_month", "busiest_hour", "place",
         "top_percent"],
        [(ALICE, date(2026, 11, 9), "Heat", date(2026, 11, 12), "Alien", 11, 20, 1, 25),
         (BOB, date(2026, 11, 9), "Heat", date(2026, 11, 13), "Severance", 11, 21, 3, 75),
         (CAROL, date(2026, 11, 12), "Heat", date(2026, 11, 12), "Heat", 11, 10, 4, 100),
         (DAVE, date(2026, 11, 14), "Up", date(2026, 11, 15), "Andor", 11, 19, 2, 50)],   # local days, not UTC
    ),
    "added_totals": (
        ["movies", "episodes", "seasons", "shows", "new_shows", "tracks", "albums", "size_bytes"],
        ["movies", "episodes", "seasons", "shows", "new_shows", "tracks", "albums", "size_bytes"],
        [(1, 11, 2, 2, 1, 2, 1, 4000 + 11 * 1000 + 2 * 10)],
    ),
    "busiest_heatmap": (
        ["dow", "hour", "plays", "seconds", "hours"],
        ["dow", "hour", "plays", "seconds"],
        [(1, 20, 1, 3000), (1, 21, 1, 3600), (2, 8, 2, 600), (2, 9, 2, 440), (3, 18, 1, 3000), (3, 19, 1, 3000),
         (4, 10, 1, 1200), (4, 20, 1, 6000), (5, 20, 1, 6000), (5, 22, 1, 3000), (6, 19, 1, 5400),
         (6, 23, 1, 2400), (7, 23, 1, 2400)],
    ),
    "community_watchlist": (
        ["title_kind", "title_key", "title", "year", "rating_key", "viewers", "user_ids", "plays", "seconds",
         "hours", "last_played"],
        ["title_key", "title", "year", "viewers", "user_ids", "plays", "seconds", "last_played"],
        [("movie|Heat|1995", "Heat", 1995, 3, [BOB, ALICE, CAROL], 3, 7800, utc("2026-11-12 15:00")),
         ("show|200", "Severance", None, 2, [ALICE, BOB], 3, 9000, utc("2026-11-14 03:00"))],
    ),
    "issue_users": (
        ["user_id", "username", "friendly_name", "is_owner", "has_access", "played"],
        ["user_id", "username", "friendly_name", "is_owner", "has_access", "played"],
        [(ALICE, "alice", "Alice", True, True, True),
         (BOB, "bob", "Bobby", False, True, True),        # blank Tautulli name: the users view falls back to Plex
         (CAROL, "carol", "Carol", False, False, True),   # deleted everywhere: the name her plays were logged with
         (DAVE, "dave", "Dave", False, True, True),
         (ERIN, "erin", "Erin", False, True, False)],     # played only in the previous week
    ),
    "platforms": (
        ["platform", "plays", "seconds", "hours", "viewers"],
        ["platform", "plays", "seconds", "viewers"],
        [("Roku", 8, 28200, 3), ("Android", 4, 1040, 2), ("Chrome", 2, 9600, 1), ("iOS", 1, 1200, 1)],
    ),
    "recently_added": (
        ["kind", "rating_key", "parent_rating_key", "title", "artist", "season", "year", "library", "items",
         "first_episode", "last_episode", "episodes", "added_at", "thumb", "new_show"],
        ["kind", "rating_key", "title", "artist", "season", "year", "library", "items", "episodes", "new_show"],
        [("album", 401, "Discovery", "Daft Punk", None, 2001, "Music", 2, None, None),
         ("season", 301, "Andor", None, 1, 2022, "TV Shows", 3, "E1–E2, E4", True),
         ("season", 211, "Severance", None, 2, 2022, "TV Shows", 8, "E1–E8", False),
         ("movie", 120, "Up", None, None, 2009, "Movies", 1, None, None)],
    ),
    "server_totals": (
        ["plays", "seconds", "hours", "active_viewers", "titles", "movie_plays", "episode_plays", "track_plays",
         "prev_plays", "prev_seconds", "prev_hours", "prev_active_viewers", "prev_titles"],
        ["plays", "seconds", "hours", "active_viewers", "titles", "movie_plays", "episode_plays", "track_plays",
         "prev_plays", "prev_seconds", "prev_hours", "prev_active_viewers", "prev_titles"],
        [(15, 40040, 11.1, 4, 7, 6, 5, 4, 3, 16000, 4.4, 3, 3)],
    ),
    "top_movies": (
        ["title_kind", "title_key", "title", "year", "rating_key", "thumb", "plays", "seconds", "hours", "viewers",
         "last_played", "rank_by_plays", "rank_by_hours", "rank_by_viewers"],
        ["title", "year", "rating_key", "plays", "seconds", "viewers", "rank_by_plays", "rank_by_hours",
         "rank_by_viewers"],
        [("Heat", 1995, 100, 3, 7800, 3, 1, 2, 1),   # HD and 4K plays are one film; Bob's resumed play is one
         ("Alien", 1979, 110, 2, 12000, 1, 2, 1, 2)],  # Local's play counts, but Local is not a viewer
    ),
    "top_music": (
        ["title_kind", "title_key", "title", "rating_key", "thumb", "plays", "seconds", "hours", "viewers",
         "last_played", "rank_by_plays", "rank_by_hours", "rank_by_viewers"],
        ["title_key", "title", "rating_key", "plays", "seconds", "viewers", "rank_by_plays", "rank_by_hours"],
        [("artist|Daft Punk", "Daft Punk", 400, 3, 840, 2, 1, 1),  # the compilation track counts for Daft Punk
         ("artist|Air", "Air", None, 1, 200, 1, 2, 2)],
    ),
    "top_shows": (
        ["title_kind", "title_key", "title", "year", "rating_key", "thumb", "plays", "episodes", "seconds", "hours",
         "viewers", "last_played", "rank_by_plays", "rank_by_hours", "rank_by_viewers"],
        ["title_key", "title", "year", "rating_key", "plays", "episodes", "seconds", "viewers", "rank_by_plays"],
        [("show|200", "Severance", 2022, 200, 3, 2, 9000, 2, 1),
         ("show|300", "Andor", 2022, 300, 2, 2, 4800, 1, 2)],  # Sunday 23:30 local is in; Monday 00:00 is not
    ),
    "top_viewers": (
        ["user_id", "username", "friendly_name", "plays", "seconds", "hours", "last_played", "rank"],
        ["user_id", "username", "friendly_name", "plays", "seconds", "rank"],
        [(ALICE, "alice", "Alice", 6, 15600, 1), (DAVE, "dave", "Dave", 3, 10200, 2),
         (BOB, "bob", "Bobby", 4, 7040, 3), (CAROL, "carol", "Carol", 1, 1200, 4)],
    ),
    "user_shared_titles": (
        ["user_id", "rank", "title_kind", "title_key", "title", "year", "rating_key", "others", "plays", "seconds",
         "hours"],
        ["user_id", "rank", "title_key", "others", "plays", "seconds"],
        [(ALICE, 1, "movie|Heat|1995", 2, 1, 3000), (ALICE, 2, "show|200", 1, 2, 6000),
         (BOB, 1, "movie|Heat|1995", 2, 1, 3600), (BOB, 2, "show|200", 1, 1, 3000),
         (CAROL, 1, "movie|Heat|1995", 2, 1, 1200)],
    ),
    "user_streak": (
        ["user_id", "days_active", "longest_streak", "longest_streak_start", "longest_streak_end", "current_streak"],
        ["user_id", "days_active", "longest_streak", "longest_streak_start", "longest_streak_end", "current_streak"],
        [(ALICE, 4, 4, date(2026, 11, 9), date(2026, 11, 12), 0),
         (BOB, 3, 2, date(2026, 11, 9), date(2026, 11, 10), 0),
         (CAROL, 1, 1, date(2026, 11, 12), date(2026, 11, 12), 0),
         (DAVE, 2, 2, date(2026, 11, 14), date(2026, 11, 15), 2)],  # played on the last local day
    ),
    "user_top_titles": (
        ["user_id", "rank", "title_kind", "title_key", "title", "year", "rating_key", "plays", "seconds", "hours",
         "last_played"],
        ["user_id", "rank", "title_key", "rating_key", "plays", "seconds"],
        [(ALICE, 1, "show|200", 200, 2, 6000), (ALICE, 2, "movie|Alien|1979", 110, 1, 6000),
         (ALICE, 3, "movie|Heat|1995", 100, 1, 3000), (ALICE, 4, "artist|Daft Punk", 400, 2, 600),
         (BOB, 1, "movie|Heat|1995", HEAT_4K["rating_key"], 1, 3600), (BOB, 2, "show|200", 200, 1, 3000),
         (BOB, 3, "artist|Daft Punk", None, 1, 240), (BOB, 4, "artist|Air", None, 1, 200),
         (CAROL, 1, "movie|Heat|1995", 100, 1, 1200),
         (DAVE, 1, "movie|Up|2009", 120, 1, 5400), (DAVE, 2, "show|300", 300, 2, 4800)],
    ),
    "user_totals": (
        ["user_id", "plays", "seconds", "hours", "titles", "movie_plays", "episode_plays", "track_plays",
         "last_played", "prev_plays", "prev_seconds", "prev_hours", "rank"],
        ["user_id", "plays", "seconds", "titles", "movie_plays", "episode_plays", "track_plays", "prev_plays",
         "prev_seconds", "rank"],
        [(ALICE, 6, 15600, 4, 2, 2, 2, 1, 7000, 1), (BOB, 4, 7040, 4, 1, 1, 2, 1, 3000, 3),
         (CAROL, 1, 1200, 1, 1, 0, 0, 0, 0, 4), (DAVE, 3, 10200, 2, 1, 2, 0, 0, 0, 2),
         (ERIN, 0, 0, 0, 0, 0, 0, 1, 6000, None)],
    ),
}


def rows_of(name, store=None, **params):
    return run(store or build(), f"stats/{name}", {**PARAMS, **OVERRIDES.get(name, {}), **params})


@pytest.mark.parametrize("name", stats_queries())
def test_every_stats_query_gives_its_known_answer(name):
    if name not in EXPECTED:
        pytest.fail(f"pipeline/sql/stats/{name}.sql has no expected answer in EXPECTED")
    columns, checked, expected = EXPECTED[name]
    rows = rows_of(name)
    assert rows, f"{name} returned nothing on the fixture"
    assert list(rows[0]) == columns
    assert [tuple(r[c] for c in checked) for r in rows] == expected
    assert params_of(f"stats/{name}") <= set(PARAMS)  # only parameters compute_issue knows how to bind


def test_no_expected_answer_is_left_without_its_file():
    assert set(EXPECTED) == set(stats_queries())


def test_resumed_sessions_are_one_play_but_all_their_hours():
    store = build()
    before = {n: rows_of(n, store) for n in ("server_totals", "top_viewers", "platforms", "busiest_heatmap")}
    # Bob resumes Heat a second time, on his phone, on Thursday: still the one play started on Monday
    insert(store, "tautulli_history", [dict(play_id=90, reference_id=2, user_id=BOB, username="bob", **HEAT_4K,
                                            started_at=utc("2026-11-12 23:00"), played_seconds=900,
                                            platform="iOS", ingested_at=utc("2026-11-16 06:00"))])
    totals = rows_of("server_totals", store)[0]
    assert totals["plays"] == before["server_totals"][0]["plays"] == 15
    assert totals["seconds"] == before["server_totals"][0]["seconds"] + 900
    bob = next(r for r in rows_of("top_viewers", store) if r["user_id"] == BOB)
    assert (bob["plays"], bob["seconds"]) == (4, 7040 + 900)
    heat = next(r for r in rows_of("top_movies", store) if r["title"] == "Heat")
    assert (heat["plays"], heat["seconds"]) == (3, 7800 + 900)
    # counted on the platform and in the hour it started: Chrome, Monday 21:00 local
    assert "iOS" in {r["platform"] for r in rows_of("platforms", store)}  # only because Carol uses iOS
    ios = next(r for r in rows_of("platforms", store) if r["platform"] == "iOS")
    assert ios["plays"] == 1 and ios["seconds"] == 1200
    chrome = next(r for r in rows_of("platforms", store) if r["platform"] == "Chrome")
    assert (chrome["plays"], chrome["seconds"]) == (2, 9600 + 900)
    cell = next(r for r in rows_of("busiest_heatmap", store) if (r["dow"], r["hour"]) == (1, 21))
    assert (cell["plays"], cell["seconds"]) == (1, 3600 + 900)


def test_a_session_resumed_after_the_period_ends_counts_its_parts_where_they_started():
    """As get_home_stats: filter parts by time first, then group; hours never leak across periods."""
    store = build()
    insert(store, "tautulli_history", [dict(play_id=91, reference_id=12, user_id=DAVE, username="dave",
                                            media_type="episode", rating_key=303, grandparent_rating_key=300,
                                            grandparent_title="Andor", started_at=utc("2026-11-16 06:00"),
                                            played_seconds=600, ingested_at=utc("2026-11-16 07:00"))])
    assert rows_of("server_totals", store)[0]["seconds"] == 40040
    nxt = PERIOD.next()
    later = rows_of("server_totals", store, start=nxt.start, end=nxt.end, prev_start=PERIOD.start)[0]
    assert (later["seconds"], later["prev_seconds"]) == (2400 + 600, 40040)


def test_new_episodes_of_a_season_are_one_row_with_their_range():
    store = build()
    fifty = [item(9000 + n, 2, "episode", f"Episode {n}", "2026-11-11 12:00", parent_rating_key=8001,
                  grandparent_rating_key=8000, grandparent_title="The Expanse", parent_title="Season 3",
                  index=n, parent_index=3) for n in range(1, 51)]
    gaps = [item(9100 + n, 2, "episode", f"Episode {n}", "2026-11-11 13:00", parent_rating_key=8002,
                 grandparent_rating_key=8000, grandparent_title="The Expanse", parent_title="Season 4",
                 index=n, parent_index=4) for n in (1, 2, 3, 5, 7, 8)]
    insert(store, "plex_items", [item(8000, 2, "show", "The Expanse", "2020-01-01 00:00", year=2015),
                                 *fifty, *gaps])
    rows = [r for r in rows_of("recently_added", store) if r["parent_rating_key"] == 8000]
    got = [(r["kind"], r["title"], r["season"], r["items"], r["first_episode"], r["last_episode"],
            r["episodes"], r["new_show"]) for r in rows]
    assert got == [("season", "The Expanse", 4, 6, 1, 8, "E1–E3, E5, E7–E8", False),
                   ("season", "The Expanse", 3, 50, 1, 50, "E1–E50", False)]
    assert rows_of("added_totals", store)[0]["episodes"] == 11 + 56


def test_recently_added_keeps_only_the_newest_rows_within_the_limit():
    rows = rows_of("recently_added", limit=2)
    assert [(r["kind"], r["title"]) for r in rows] == [("album", "Discovery"), ("season", "Andor")]


def test_the_heatmap_is_cut_in_the_servers_time_zone():
    """Dave's Andor play at 04:59Z on Sunday is Saturday 23:59 in New York, 04:59 Sunday in London."""
    ny = {(r["dow"], r["hour"]): r["plays"] for r in rows_of("busiest_heatmap")}
    assert ny[(6, 23)] == 1 and (7, 4) not in ny
    london_week = parse_period("2026-W46", "Europe/London")
    london = {(r["dow"], r["hour"]): r["plays"]
              for r in rows_of("busiest_heatmap", start=london_week.start, end=london_week.end, tz="Europe/London")}
    assert london[(7, 4)] == 1 and (6, 23) not in london
    # London's week ends at 00:00Z Monday: Dave's 04:30Z Monday play falls in the next one
    assert sum(london.values()) == 15 - 1


def test_the_heatmap_follows_dst_in_a_167_hour_week():
    store = build()
    week = parse_period("2026-W10", TZ)  # DST starts Sun Mar 8 at 02:00 in New York
    insert(store, "tautulli_history", [
        dict(play_id=pid, reference_id=pid, user_id=ALICE, media_type="movie", title="Heat", full_title="Heat",
             year=1995, started_at=utc(at), played_seconds=60, ingested_at=utc("2026-03-10 00:00"))
        for pid, at in ((201, "2026-03-02 04:59"),   # Sun Mar 1 23:59 EST: the week before
                        (202, "2026-03-02 05:00"),   # Mon Mar 2 00:00 EST: first instant of the week
                        (203, "2026-03-08 06:59"),   # Sun Mar 8 01:59 EST
                        (204, "2026-03-08 07:00"),   # Sun Mar 8 03:00 EDT: 02:00 never happened
                        (205, "2026-03-09 03:59"),   # Sun Mar 8 23:59 EDT: last minute of the week
                        (206, "2026-03-09 04:00"))])  # Mon Mar 9 00:00 EDT: the next week
    cells = [(r["dow"], r["hour"], r["plays"]) for r in
             rows_of("busiest_heatmap", store, start=week.start, end=week.end)]
    assert cells == [(1, 0, 1), (7, 1, 1), (7, 3, 1), (7, 23, 1)]
    streaks = rows_of("user_streak", store, start=week.start, end=week.end)
    assert [(r["days_active"], r["current_streak"]) for r in streaks] == [(2, 1)]


def test_local_is_no_viewer_but_its_plays_count():
    store = build()
    totals = rows_of("server_totals", store)[0]
    assert totals["active_viewers"] == 4 and totals["movie_plays"] == 6  # Local's Alien is a play ...
    for name in ("top_viewers", "user_totals", "user_streak", "user_top_titles", "user_shared_titles", "issue_users"):
        assert LOCAL not in {r["user_id"] for r in rows_of(name, store)}, name  # ... but Local is nobody
    # Alice and Local both watched Alien: that is not two people, so it is not on the community list
    assert "Alien" not in {r["title"] for r in rows_of("community_watchlist", store)}
    assert all(LOCAL not in r["user_ids"] for r in rows_of("community_watchlist", store))
    alien = next(r for r in rows_of("top_movies", store, limit=3) if r["title"] == "Alien")
    assert (alien["plays"], alien["viewers"]) == (2, 1)


def test_an_empty_period_returns_zeroes_not_errors():
    quiet = parse_period("2020-W10", TZ)
    params = {"start": quiet.start, "end": quiet.end, "prev_start": quiet.previous().start}
    store = build()
    totals = rows_of("server_totals", store, **params)[0]
    assert (totals["plays"], totals["seconds"], totals["titles"], totals["prev_plays"]) == (0, 0, 0, 0)
    assert rows_of("added_totals", store, **params)[0]["movies"] == 0
    for name in set(stats_queries()) - {"server_totals", "added_totals"}:
        assert rows_of(name, store, **params) == [], name


def test_cowatchers_count_titles_beyond_the_bitstring_exactly():
    """Past 1,024 titles the rarer ones are paired by a join: shared counts and ranks match a count in Python."""
    store = build()
    at = utc("2026-11-10 12:00")
    watched = {f"Common {n:04d}": (ALICE, BOB, CAROL, DAVE) for n in range(1030)}  # the bitstring's 1,024 slots
    watched.update({f"Rare {n}": (CAROL, DAVE) for n in range(3)})                # beyond them: the join's
    watched.update({f"Odd {n}": (BOB,) for n in range(2)})
    insert(store, "tautulli_history", [
        dict(play_id=10_000 + i, reference_id=10_000 + i, user_id=uid, media_type="movie", title=title,
             full_title=title, year=2000, started_at=at, played_seconds=60, ingested_at=at)
        for i, (title, uid) in enumerate((t, u) for t, users in watched.items() for u in users)])
    titles: dict[int, set] = {}
    for row in run(store, "stats/user_top_titles", {**PARAMS, "limit": 100_000}):
        titles.setdefault(row["user_id"], set()).add(row["title_key"])
    expected = []
    for uid in sorted(titles):
        pairs = [(len(titles[uid] & titles[other]), len(titles[uid] & titles[other])
                  / len(titles[uid] | titles[other]), other) for other in titles if other != uid]
        best = sorted((p for p in pairs if p[0]), key=lambda p: (-p[0], -p[1], p[2]))[:6]
        expected += [(uid, rank, other, shared, round(share, 4)) for rank, (shared, share, other) in enumerate(best, 1)]
    got = [(r["user_id"], r["rank"], r["other_id"], r["shared"], r["overlap"])
           for r in rows_of("user_cowatchers", store, limit=6)]
    assert got == expected
    assert (CAROL, 1, DAVE) in {g[:3] for g in got}  # the three rare titles put Dave ahead of Alice and Bob


def test_binges_do_not_depend_on_the_order_plays_were_stored():
    """Two shows started in the same second: the sittings come out the same whichever row the store holds first."""
    at = utc("2026-11-10 20:00")

    def play(pid: int, show_rk: int, show: str, number: int, start) -> dict:
        return dict(play_id=pid, reference_id=pid, user_id=77, username="tie", started_at=start, played_seconds=1000,
                    ingested_at=INGESTED, **episode(9000 + pid, show_rk, show, show_rk + 1, 1, number))

    plays = [play(301, 901, "Yankee", 1, at), play(302, 900, "Xray", 1, at),
             play(303, 900, "Xray", 2, at + timedelta(seconds=1000))]
    found = []
    for order in (plays, plays[::-1], [plays[1], plays[0], plays[2]]):
        store = build()
        insert(store, "tautulli_history", order)
        found.append([r for r in rows_of("user_binges", store) if r["user_id"] == 77])
    assert found[0] == found[1] == found[2] and len(found[0]) == 1
