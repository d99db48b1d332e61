"""The Tautulli boundary: get_history / get_users / get_libraries_table rows become typed columns once."""

from datetime import datetime, timezone

import pyarrow as pa
import pytest

from pipeline.errors import BadResponse
from pipeline.ingest.history import since
from pipeline.ingest.people import library_row, user_row
from pipeline.ingest.history_rows import HISTORY_SCHEMA, history_table
from pipeline.settings import load_settings
from pipeline.store.db import memory_store


def episode(**over):
    row = {
        "reference_id": 4925, "row_id": 4929, "id": 4929, "date": 1700000600, "started": 1700000000,
        "stopped": 1700003000, "duration": 2400, "play_duration": 2400, "paused_counter": 600,
        "user_id": 133788, "user": "jon", "friendly_name": "Jon Snow", "user_thumb": "https://plex.tv/x",
        "platform": "Roku", "product": "Plex for Roku", "player": "Living Room", "ip_address": "203.0.113.9",
        "live": 0, "machine_id": "abc", "location": "wan", "secure": 1, "relayed": 0, "media_type": "episode",
        "rating_key": 4348, "parent_rating_key": 544, "grandparent_rating_key": 351,
        "full_title": "Game of Thrones - The Red Woman", "title": "The Red Woman", "parent_title": "Season 6",
        "grandparent_title": "Game of Thrones", "original_title": "", "year": 2016, "media_index": 1,
        "parent_media_index": 6, "thumb": "/library/metadata/544/thumb/1", "originally_available_at": "2016-04-24",
        "guid": "plex://episode/5d9c", "transcode_decision": "transcode", "percent_complete": 84,
        "watched_status": 1, "group_count": 1, "group_ids": "4929", "state": None, "session_key": None,
    }
    row.update(over)
    return row


def movie(**over):
    return episode(**{"media_type": "movie", "parent_rating_key": "", "grandparent_rating_key": "",
                      "media_index": "", "parent_media_index": "", "parent_title": "", "grandparent_title": "",
                      "title": "Tom & Jerry", "full_title": "Tom & Jerry", "rating_key": 7001, **over})


def test_movies_empty_strings_become_null_and_episode_numbers_stay():
    t = history_table([episode(id=1), movie(id=2)]).to_pylist()
    assert [r["parent_rating_key"] for r in t] == [544, None]
    assert [r["grandparent_rating_key"] for r in t] == [351, None]
    assert [r["media_index"] for r in t] == [1, None]
    assert [r["parent_media_index"] for r in t] == [6, None]
    assert t[1]["parent_title"] == ""  # text stays text: "" is only NULL for numbers


def test_ip_address_never_crosses_the_boundary():
    table = history_table([episode()])
    assert not [name for name in table.column_names if "ip" in name.split("_")]
    assert "203.0.113.9" not in str(table.to_pylist())


def test_types_match_the_schema():
    table = history_table([episode(watched_status=0.75, live=1)])
    assert table.schema == HISTORY_SCHEMA
    row = table.to_pylist()[0]
    assert row["play_id"] == 4929 and row["reference_id"] == 4925 and row["username"] == "jon"
    assert row["started_at"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert row["stopped_at"] == datetime(2023, 11, 14, 23, 3, 20, tzinfo=timezone.utc)
    assert row["started_at"].utcoffset().total_seconds() == 0
    assert row["watched_status"] == 0.75 and table.schema.field("watched_status").type == pa.float64()
    assert row["live"] is True
    assert row["played_seconds"] == 2400 and row["paused_seconds"] == 600


def test_play_duration_is_preferred_and_duration_is_the_fallback():
    assert history_table([episode(play_duration=100, duration=999)]).column("played_seconds").to_pylist() == [100]
    old = episode(duration=321)
    del old["play_duration"]
    assert history_table([old]).column("played_seconds").to_pylist() == [321]


def test_row_id_stands_in_for_a_missing_id():
    row = episode(row_id=77)
    del row["id"]
    assert history_table([row]).column("play_id").to_pylist() == [77]


def test_titles_are_raw_text():
    weird = "<script>alert(1)</script> & \"q\" 🎬 千と千尋"
    assert history_table([movie(title=weird)]).column("title").to_pylist() == [weird]


def test_a_stopped_of_zero_is_null_and_section_id_is_absent_without_failing():
    t = history_table([episode(stopped=0)])
    assert t.column("stopped_at").to_pylist() == [None]
    assert t.column("section_id").to_pylist() == [None]  # real get_history rows carry no section_id


def test_numbers_as_text_are_read_and_junk_becomes_null():
    t = history_table([episode(year="2016", media_index=" 3 "), episode(id=2, year="n/a", media_index=None)])
    assert t.column("year").to_pylist() == [2016, None]
    assert t.column("media_index").to_pylist() == [3, None]


def test_a_later_row_missing_an_optional_field_is_null():
    second = episode(id=2)
    del second["original_title"], second["paused_counter"]
    t = history_table([episode(id=1), second])
    assert t.column("original_title").to_pylist() == ["", None]
    assert t.column("paused_seconds").to_pylist() == [600, None]


@pytest.mark.parametrize("field, value", [("started", ""), ("started", None), ("user_id", ""), ("id", None)])
def test_a_row_without_a_required_value_is_a_bad_response(field, value):
    with pytest.raises(BadResponse, match=rf"get_history page 3: row 1 has no usable '{field}'"):
        history_table([episode(id=1), episode(**{"id": 2, field: value})], "get_history page 3")


def test_rows_without_a_required_field_or_not_objects_are_bad_responses():
    row = episode()
    del row["started"]
    with pytest.raises(BadResponse, match="no 'started' field"):
        history_table([row])
    with pytest.raises(BadResponse, match="row 1 is not an object"):
        history_table([episode(), ["not", "a", "row"]])
    with pytest.raises(BadResponse, match="not objects"):
        history_table(["x"])


def test_an_empty_page_is_an_empty_typed_table():
    table = history_table([])
    assert table.num_rows == 0 and table.schema == HISTORY_SCHEMA


def test_user_rows_keep_names_as_sent():
    local = user_row({"user_id": 0, "username": "Local", "friendly_name": "Local", "email": None,
                      "is_active": None, "is_admin": None, "shared_libraries": []})
    assert local["user_id"] == 0 and local["is_active"] is None and local["shared_libraries"] == []
    blank = user_row({"user_id": "42", "username": "blankname", "friendly_name": "   ", "email": "",
                      "is_active": 1, "is_admin": 0, "is_home_user": 0, "is_restricted": 1,
                      "shared_libraries": ["1", "2"]})
    assert blank["user_id"] == 42 and blank["friendly_name"] == "   " and blank["email"] == ""
    assert (blank["is_active"], blank["is_admin"], blank["is_restricted"]) == (True, False, True)
    assert blank["shared_libraries"] == ["1", "2"]
    assert user_row({"user_id": 7, "shared_libraries": "1;3"})["shared_libraries"] == ["1", "3"]
    assert user_row({"user_id": ""}) is None and user_row("nobody") is None


def test_library_rows():
    row = library_row({"section_id": 2, "section_name": "TV Shows", "section_type": "show", "count": 62,
                       "parent_count": 240, "child_count": "", "is_active": 1})
    assert row == {"section_id": 2, "section_name": "TV Shows", "section_type": "show", "item_count": 62,
                   "parent_count": 240, "child_count": None, "is_active": True}
    assert library_row({"section_name": "no id"}) is None


def test_after_is_the_server_local_date_of_the_newest_play_minus_the_overlap():
    store = memory_store()
    settings = load_settings(environ={"MARQUEE__SERVER__TIMEZONE": "America/New_York",
                                      "MARQUEE__TAUTULLI__OVERLAP_HOURS": "48"}, dotenv_path=None)
    assert since(store, settings) is None  # first run: no filter
    table = history_table([episode(started=int(datetime(2024, 3, 10, 1, tzinfo=timezone.utc).timestamp()))])
    store.con.register("t", table)
    store.con.execute("INSERT INTO tautulli_history BY NAME SELECT *, now() AS ingested_at FROM t")
    # 2024-03-08 01:00 UTC is still 2024-03-07 in New York
    assert since(store, settings) == "2024-03-07"
