"""Names an admin types resolve to exactly one item or user, or fail in one line listing candidates."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.media.resolve import UserDirectory, find_target
from tests.fixtures.retention_shelf import ALICE, BOB, CAROL, Shelf, at


@pytest.fixture
def shelf() -> Shelf:
    s = Shelf()
    s.movie(1, "Dune", 1984)
    s.movie(2, "Dune", 2021)
    s.show(3, "Dune", 2000)
    s.movie(4, "Heat", 1995)
    s.movie(5, "Gone Girl", 2014, removed=at(-3))
    s.movie(6, "1917", 2019)
    s.movie(7, "Alien", None)
    s.show(100, "Severance", 2022)
    s.item(101, 2, "season", "Season 1", show=100)
    s.episode(102, 100, 1, 1)
    s.user(14, "sam", "Sam Lee", "sam@example.org")
    s.user(15, "samw", "Sam Lee", "samw@example.org")
    return s


@pytest.mark.parametrize("text, key", [
    ("heat", 4), ("  HEAT ", 4), ("Dune (2021)", 2), ("dune (1984)", 1), ("Dune(2000)", 3), ("4", 4), ("#4", 4),
    ("102", 102), ("1917 (2019)", 6), ("alien", 7), ("severance", 100),
])
def test_titles_years_and_rating_keys(shelf, text, key):
    assert find_target(shelf.store, text).rating_key == key


def test_an_ambiguous_title_lists_every_candidate_with_year_type_and_key(shelf):
    with pytest.raises(ConfigError) as caught:
        find_target(shelf.store, "dune")
    assert str(caught.value) == (
        "'dune' matches 3 titles: Dune (1984, movie, rating key 1); Dune (2000, show, rating key 3); "
        "Dune (2021, movie, rating key 2); write \"Title (Year)\" or the rating key")


def test_an_unknown_title_suggests_near_ones_and_the_same_title_in_another_year(shelf):
    with pytest.raises(ConfigError, match=r"no movie or show titled 'Haet' in Plex \(did you mean 'Heat'\?\)"):
        find_target(shelf.store, "Haet")
    with pytest.raises(ConfigError, match=r"'Heat \(1996\)' in Plex \(Plex has Heat \(1995, movie, rating key 4\)\)"):
        find_target(shelf.store, "Heat (1996)")
    with pytest.raises(ConfigError, match=r"no Plex item has rating key 999"):
        find_target(shelf.store, "#999")
    with pytest.raises(ConfigError, match=r"no Plex item has rating key 999"):
        find_target(shelf.store, 999, by="key")


def test_a_number_that_is_a_key_and_a_title_must_be_disambiguated(shelf):
    shelf.movie(1917, "Some Other Film", 2001)
    with pytest.raises(ConfigError, match=r"'1917' is both a rating key \(Some Other Film \(2001, movie, rating key "
                                          r"1917\)\) and a title \(1917 \(2019, movie, rating key 6\)\); write "
                                          r"\"#1917\""):
        find_target(shelf.store, "1917")
    assert find_target(shelf.store, "#1917").rating_key == 1917
    assert find_target(shelf.store, "1917", by="title").rating_key == 6


def test_seasons_are_not_targets_and_removed_items_are_reported_as_gone(shelf):
    with pytest.raises(ConfigError, match=r"'101' is a season .*; use the show or single episodes"):
        find_target(shelf.store, "101")
    gone = find_target(shelf.store, "gone girl")
    assert gone.rating_key == 5 and gone.removed_at == at(-3)


def test_users_by_username_friendly_name_email_or_id(shelf):
    users = UserDirectory.load(shelf.store)
    found = users.resolve(["ALICE", "Bobby Tables", "carol@example.org", str(ALICE), "samw"])
    assert [u.user_id for u in found] == [ALICE, BOB, CAROL, 15]  # repeats collapse, order kept


def test_an_unknown_user_lists_near_matches_and_an_ambiguous_one_lists_candidates(shelf):
    users = UserDirectory.load(shelf.store)
    with pytest.raises(ConfigError) as caught:
        users.resolve(["alcie", "zzzz", "sam lee"])
    assert str(caught.value) == (
        "unknown user 'alcie' (did you mean alice (Alice Liddell, id 11)?); "
        "unknown user 'zzzz' (no username, name, e-mail or id like it); "
        "'sam lee' matches 2 users: sam (Sam Lee, id 14), samw (Sam Lee, id 15); use the username or id")


def test_a_username_beats_another_users_friendly_name(shelf):
    shelf.user(17, "ccc", "alice")  # usernames are unique in Plex, friendly names are not
    assert UserDirectory.load(shelf.store).resolve(["alice"])[0].user_id == ALICE
