"""retention.toml: a good file parses into assignments and Rules; every mistake is one line naming file, entry, key."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.policy.media_rules import Rule
from pipeline.media.config import FileAssignment, load_retention

GOOD = """
[[assign]]
title = "Dune (2021)"
users = ["alice", "bob@example.org"]

[[assign]]
rating_key = 4242
users = ["Carol", 12345]

[[rule]]
name = "old movies"
library = "Movies"
media_type = "movie"
added_before_days = 365
not_played_by_anyone_days = 180
min_size_gb = 1.5
exclude_labels = ["favorite"]
exclude_collections = ["Criterion"]
exclude_played_within_days = 30

[[rule]]
name = "stale episodes"
media_type = "episode"
not_played_by_anyone_days = 90
"""


def write(tmp_path, text: str):
    path = tmp_path / "retention.toml"
    path.write_text(text)
    return path


def test_a_good_file(tmp_path):
    parsed = load_retention(write(tmp_path, GOOD))
    assert parsed.exists
    assert parsed.assignments == (FileAssignment(1, "Dune (2021)", None, ("alice", "bob@example.org")),
                                  FileAssignment(2, None, 4242, ("Carol", "12345")))
    assert parsed.rules == (
        Rule(name="old movies", library="Movies", media_type="movie", added_before_days=365,
             not_played_by_anyone_days=180, min_size_bytes=1_500_000_000,
             exclude_labels=frozenset({"keep", "favorite"}), exclude_collections=frozenset({"Criterion"}),
             exclude_played_within_days=30),
        Rule(name="stale episodes", media_type="episode", not_played_by_anyone_days=90),
    )


def test_a_missing_file_means_no_assignments_and_no_rules(tmp_path):
    parsed = load_retention(tmp_path / "nope.toml")
    assert not parsed.exists and parsed.assignments == () and parsed.rules == ()


def test_keep_always_protects_even_when_a_rule_lists_other_labels(tmp_path):
    (rule,) = load_retention(write(tmp_path, '[[rule]]\nname = "r"\nlibrary = "Movies"\nadded_before_days = 1\n'
                                             'exclude_labels = []\n')).rules
    assert rule.exclude_labels == {"keep"}


RULE = '[[rule]]\nname = "r"\nlibrary = "Movies"\nadded_before_days = 30\n'
BAD = [
    ("not toml", "[[assign]\n", r"retention\.toml: not valid TOML"),
    ("unknown top-level key", "[assignments]\nx = 1\n", r"retention\.toml: unknown key 'assignments'"),
    ("assign is not a table array", "assign = 3\n", r"assign must be written as \[\[assign\]\] tables"),
    ("unknown assign key", '[[assign]]\ntitle = "Dune"\nuser = ["alice"]\n',
     r"retention\.toml \[\[assign\]\] #1: unknown key 'user' \(allowed: title, rating_key, season, users\)"),
    ("title and rating key", '[[assign]]\ntitle = "Dune"\nrating_key = 5\nusers = ["a"]\n',
     r"#1: set exactly one of title or rating_key"),
    ("neither", '[[assign]]\nusers = ["a"]\n', r"#1: set exactly one of title or rating_key"),
    ("empty title", '[[assign]]\ntitle = " "\nusers = ["a"]\n', r"#1: title must be a non-empty string"),
    ("bad rating key", '[[assign]]\nrating_key = "5"\nusers = ["a"]\n', r"#1: rating_key must be a positive whole"),
    ("no users", '[[assign]]\ntitle = "Dune"\nusers = []\n', r"#1: users must be a non-empty list"),
    ("users not a list", '[[assign]]\ntitle = "Dune"\nusers = "alice"\n', r"#1: users must be a non-empty list"),
    ("a user that is not a name", '[[assign]]\ntitle = "Dune"\nusers = [true]\n', r"#1: users must hold usernames"),
    ("second entry", '[[assign]]\ntitle = "A"\nusers = ["a"]\n[[assign]]\ntitle = "B"\nusers = ["b"]\nextra = 1\n',
     r"\[\[assign\]\] #2: unknown key 'extra'"),
    ("unknown rule key", RULE + "min_size = 3\n",
     r"retention\.toml \[\[rule\]\] #1 \('r'\): unknown key 'min_size' \(allowed: name, library"),
    ("rule without a name", '[[rule]]\nlibrary = "Movies"\nadded_before_days = 3\n',
     r"\[\[rule\]\] #1: name must be a non-empty string"),
    ("negative days", RULE + "not_played_by_anyone_days = -1\n",
     r"\('r'\): not_played_by_anyone_days must be a number >= 0, not -1"),
    ("days as text", RULE.replace("30", '"30"'), r"\('r'\): added_before_days must be a number >= 0, not '30'"),
    ("size as bool", RULE + "min_size_gb = true\n", r"\('r'\): min_size_gb must be a number >= 0, not True"),
    ("media type show", RULE + 'media_type = "show"\n', r"\('r'\): media_type must be 'movie' or 'episode'"),
    ("labels not a list", RULE + 'exclude_labels = "keep"\n', r"\('r'\): exclude_labels must be a list of names"),
    ("collections with a number", RULE + "exclude_collections = [1]\n",
     r"\('r'\): exclude_collections must be a list of names"),
    ("no scope", '[[rule]]\nname = "r"\nadded_before_days = 3\n',
     r"\[\[rule\]\] #1: retention rule 'r': set library or media_type"),
    ("no age", '[[rule]]\nname = "r"\nlibrary = "Movies"\nmin_size_gb = 3\n',
     r"\[\[rule\]\] #1: retention rule 'r': set added_before_days or not_played_by_anyone_days"),
    ("duplicate rule names", RULE + RULE.replace('"r"', '"R"'), r"\[\[rule\]\] #2: name 'R' is used twice"),
]


@pytest.mark.parametrize("text, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_mistakes_are_one_line_naming_file_entry_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message) as caught:
        load_retention(write(tmp_path, text))
    assert "\n" not in str(caught.value)
    assert str(tmp_path / "retention.toml") in str(caught.value)
