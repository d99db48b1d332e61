"""Address checks: typos and junk are caught before a provider rejects them."""

import pytest

from pipeline.send.address import normalize, split_named


@pytest.mark.parametrize("raw, expected", [
    ("Ann@Example.ORG", "ann@example.org"),
    ("  bob+plex@mail.example.co.uk ", "bob+plex@mail.example.co.uk"),
    ("o'neil@example.org", "o'neil@example.org"),
    ("zoë@bücher.example", None),                 # non-ASCII local part: not deliverable by SES raw
    ("user@bücher.example", "user@xn--bcher-kva.example"),
])
def test_good_addresses_are_lower_cased(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", [
    "", None, "plainname", "two@@example.org", "a@b@example.org", "with space@example.org", "dot.@example.org",
    ".dot@example.org", "a..b@example.org", "user@localhost", "user@-bad.example", "user@example.123",
    "user@example..org", "x" * 65 + "@example.org", "user@" + "a" * 250 + ".org",
])
def test_junk_is_refused(raw):
    assert normalize(raw) is None


def test_named_form():
    assert split_named("Ann Lee <Ann@Example.org>") == ("Ann Lee", "ann@example.org")
    assert split_named("ann@example.org") == ("", "ann@example.org")
    assert split_named("Ann <not an address>")[1] is None
