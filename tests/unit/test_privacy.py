"""Who the archive names, and how; and a leak scan over every file of a built site."""

import copy
from pathlib import Path

import pytest

from pipeline.errors import MarqueeError
from pipeline.render.issue_view import issue_view, namer_for
from pipeline.render.privacy import ANONYMOUS, Namer, initials, public_name
from pipeline.render.site.generate import render_site
from pipeline.settings import load_settings
from tests.fixtures.leaks import leak_scan
from tests.fixtures.site_issues import USERS, draw_posters, fixture_snapshots, snapshot

TOKEN = "plexSecretToken-9f8e7d6c5b4a"
API_KEY = "0123456789abcdef0123456789abcdef"
PLEX_URL = "http://192.168.1.20:32400"
TAUTULLI_URL = "http://10.0.0.5:8181"


@pytest.mark.parametrize("name, policy, shown", [
    ("Alice Smith", "friendly", "Alice Smith"),
    ("Alice Smith", "initials", "A. S."),
    ("Alice Smith", "hidden", None),
    ("bob", "initials", "B."),
    ("bob", "friendly", "bob"),
    ("  mary   jane  ", "friendly", "mary jane"),
    ("Jean-Luc Picard", "initials", "J. L. P."),
    ("Anna Maria Luisa Berg", "initials", "A. M. L."),
    ("Ölaf Øster", "initials", "Ö. Ø."),
    ("山田 太郎", "initials", "山 太"),            # issue #11 item 18: no dot after a CJK character
    ("(bob) 🎬", "initials", "B."),
    ("dave@example.com", "friendly", "D."),      # an e-mail used as a name is never shown
    ("dave.jones@example.com", "initials", "D. J."),
    ("", "initials", ANONYMOUS),
    ("", "friendly", ANONYMOUS),
    ("🎬🍿", "initials", ANONYMOUS),
])
def test_public_name(name, policy, shown):
    assert public_name(name, policy) == shown


def test_initials_never_returns_an_empty_string():
    assert initials("   ") == ANONYMOUS and initials("...") == ANONYMOUS


USER_ROWS = list(USERS.values())


@pytest.mark.parametrize("exclude, gone", [
    (["carolj"], {103}),                            # username
    (["CarolJ "], {103}),                           # case and spaces do not matter
    (["104"], {104}),                               # user id
    (["bob@example.org"], {102}),                   # e-mail, when the snapshot carries it
    (["carolj", "104", "nobody"], {103, 104}),
    ([], set()),
])
def test_exclusions_by_username_id_or_email(exclude, gone):
    namer = Namer.build(USER_ROWS, "initials", exclude)
    assert {u["user_id"] for u in USER_ROWS if namer.is_excluded(u)} == gone
    assert {u["user_id"] for u in USER_ROWS if namer.is_excluded(u["user_id"])} == gone


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError):
        Namer.build(USER_ROWS, "nicknames", [])


def view(names="initials", exclude=(), snap=None):
    snap = snap or snapshot("2026-W46", scale=3)
    return issue_view(snap, namer_for(snap, names, list(exclude)), posters={}, charts={})


def test_excluded_users_leave_every_list_and_the_ranks_close_up():
    v = view(exclude=["alice.smith", "104"])
    assert [p["name"] for p in v["top_viewers"]] == ["C. J.", "B.", "E. O.", "F. O."]
    assert [p["rank"] for p in v["top_viewers"]] == [1, 2, 3, 4]
    together = {t["title"]: t for t in v["watchlist"]}
    assert together["Severance"]["who"] == "C. J., B. and E. O." and together["Severance"]["viewers"] == 3
    assert together["Dune: Part Two"]["who"] == "B. and F. O."
    # D. and C. J. watched it; without D. it is no longer watched together
    assert "<script>alert(1)</script>" not in together


def test_friendly_names_are_shown_as_given_but_never_as_an_email():
    v = view(names="friendly")
    assert [p["name"] for p in v["top_viewers"]][:4] == ["Alice Smith", "Carol Jones", "Bob", "D."]


def test_hidden_names_drop_the_leaderboard_and_count_people_instead():
    v = view(names="hidden")
    assert v["top_viewers"] == [] and v["names_hidden"] is True
    assert [t["who"] for t in v["watchlist"]][:2] == ["4 viewers", "3 viewers"]


def test_the_view_carries_no_ids_usernames_emails_or_plex_paths():
    text = repr(view(names="friendly"))
    for user in USER_ROWS:
        assert user["email"] not in text and f"'{user['username']}'" not in text
    assert "/library/metadata" not in text and "rating_key" not in text and "user_id" not in text


# -- the whole site --------------------------------------------------------------------------------


def site_settings(tmp_path, **overrides):
    env = {"PLEX_TOKEN": TOKEN, "TAUTULLI_API_KEY": API_KEY, "PLEX_URL": PLEX_URL, "TAUTULLI_URL": TAUTULLI_URL}
    return load_settings(environ=env, dotenv_path=None, overrides={
        "data.dir": str(tmp_path / "data"), "site.output_dir": str(tmp_path / "output"),
        "server.name": "Casa Cinema", "server.timezone": "Europe/Paris", **overrides})


@pytest.fixture(scope="module")
def posters(tmp_path_factory):
    return draw_posters(tmp_path_factory.mktemp("posters"))


@pytest.mark.parametrize("names, hidden_words", [
    ("initials", ["Alice Smith", "Carol Jones", "Frank Ocean", "alice.smith", "carolj", "bobby"]),
    ("friendly", ["alice.smith", "carolj", "bobby"]),
    ("hidden", ["Alice Smith", "A. S.", "C. J.", "alice.smith"]),
])
def test_leak_scan_of_the_built_site(tmp_path, posters, names, hidden_words):
    settings = site_settings(tmp_path, **{"site.names": names})
    render_site(settings, fixture_snapshots(), posters=posters)
    found = leak_scan(settings.site.output_dir, secrets=[TOKEN, API_KEY, PLEX_URL, "192.168.1.20", TAUTULLI_URL],
                      words=hidden_words)
    assert found == []


def test_an_excluded_user_appears_nowhere_even_by_friendly_name(tmp_path, posters):
    settings = site_settings(tmp_path, **{"site.names": "friendly", "site.exclude_users": ["carolj"]})
    render_site(settings, fixture_snapshots(), posters=posters)
    assert leak_scan(settings.site.output_dir, words=["Carol Jones", "carolj", "Carol"]) == []
    html = (Path(settings.site.output_dir) / "issues/2026-w46/index.html").read_text()
    assert "Alice Smith" in html  # the scan above can find names: friendly ones are there


def test_a_secret_in_the_data_stops_the_build_before_output(tmp_path, posters):
    settings = site_settings(tmp_path)
    snaps = fixture_snapshots()
    snaps[1] = copy.deepcopy(snaps[1])
    snaps[1]["top"]["movies"]["by_plays"][0]["title"] = f"Movie {TOKEN}"
    with pytest.raises(MarqueeError) as err:
        render_site(settings, snaps, posters=posters)
    assert TOKEN not in str(err.value)
    assert not Path(settings.site.output_dir).exists() or not any(Path(settings.site.output_dir).iterdir())


def test_the_scan_itself_finds_what_it_looks_for(tmp_path):
    (tmp_path / "a.html").write_text("write to bob@example.org from 192.168.1.20 with X-Plex-Token")
    found = leak_scan(tmp_path)
    assert any("e-mail" in f for f in found) and any("IPv4" in f for f in found)
    assert any("X-Plex-Token" in f for f in found)
