"""The digest e-mail matches its reviewed golden files (regenerate: python -m tests.golden.email_golden)."""

import difflib

import pytest

from tests.golden.email_golden import GOLDEN, build_golden

NAMES = ["digest.html", "digest.txt", "digest.headers"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_golden(tmp_path_factory.mktemp("email-golden"))


def test_the_golden_files_exist(built):
    assert sorted(built) == sorted(NAMES)
    missing = [name for name in built if not (GOLDEN / name).is_file()]
    assert not missing, f"no golden file for {missing}; run `python -m tests.golden.email_golden` and review"


@pytest.mark.parametrize("name", NAMES)
def test_output_matches_golden(built, name):
    expected = (GOLDEN / name).read_bytes()
    actual = built[name]
    if actual != expected:
        diff = "\n".join(list(difflib.unified_diff(
            expected.decode().splitlines(), actual.decode().splitlines(), "golden", "built", lineterm=""))[:80])
        pytest.fail(f"{name} differs from tests/golden/email/{name}; if the change is intended run "
                    f"`python -m tests.golden.email_golden` and review it:\n{diff}")


def test_the_golden_digest_is_escaped_and_complete():
    html = (GOLDEN / "digest.html").read_text()
    text = (GOLDEN / "digest.txt").read_text()
    head = (GOLDEN / "digest.headers").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "<script>alert(1)</script>" in text
    assert "cid:image-1" in html and "https://news.example.org/issues/2026-w46/" in html
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in head
    assert "Subject: Week 46: 11.1 hours watched, 8 new titles — Kino" in head
