"""The built site matches the reviewed golden files byte for byte (regenerate: `invoke update-golden`)."""

import difflib

import pytest

from tests.golden.site_golden import GOLDEN, build_golden


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_golden(tmp_path_factory.mktemp("golden"))


def test_the_golden_files_exist(built):
    missing = [name for name in built if not (GOLDEN / name).is_file()]
    assert not missing, f"no golden file for {missing}; run `invoke update-golden` and review the diff"


@pytest.mark.parametrize("name", ["issue-2026-w46.html", "issues.atom.xml", "heatmap-2026-w46.svg"])
def test_output_matches_golden(built, name):
    expected = (GOLDEN / name).read_bytes()
    actual = built[name]
    if actual != expected:
        diff = "\n".join(list(difflib.unified_diff(
            expected.decode().splitlines(), actual.decode().splitlines(), "golden", "built", lineterm=""))[:80])
        pytest.fail(f"{name} differs from tests/golden/site/{name}; if the change is intended run "
                    f"`invoke update-golden` and review it:\n{diff}")
    assert actual == expected, f"{name} differs from its golden file; run `invoke update-golden` if intended"


def test_the_golden_page_is_the_escaped_fixture():
    page = (GOLDEN / "issue-2026-w46.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "marquee.css?v=ASSET_VERSION" in page
