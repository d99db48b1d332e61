"""Publishing rules that need no server: content types, cache headers, prefixes, the plan's wording."""

from pathlib import Path

import pytest

from pipeline.run.publish import YEAR, FileAction, PublishPlan, _prefix, cache_control, content_type, local_files


@pytest.mark.parametrize("name, body, expected", [
    ("index.html", b"<html>", "text/html; charset=utf-8"),
    ("all.atom.xml", b"", "application/atom+xml"),
    ("all.rss.xml", b"", "application/rss+xml"),
    ("feed.xml", b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">', "application/atom+xml"),
    ("news.xml", b'<?xml version="1.0"?>\n<rss version="2.0">', "application/rss+xml"),
    ("sitemap.xml", b'<?xml version="1.0"?><urlset>', "application/xml"),
    ("STYLE.CSS", b"", "text/css; charset=utf-8"),
    ("font.woff2", b"", "font/woff2"),
    ("mystery.bin", b"", "application/octet-stream"),
])
def test_content_types(tmp_path, name, body, expected):
    path = tmp_path / name
    path.write_bytes(body)
    assert content_type(path) == expected


def test_cache_control_is_long_only_for_assets():
    assert cache_control("images/posters/1-a-200.jpg", "image/jpeg", 300) == YEAR
    assert cache_control("theme/css/style.css", "text/css; charset=utf-8", 300) == YEAR
    assert cache_control("index.html", "text/html; charset=utf-8", 300) == "public, max-age=300"
    assert cache_control("images/index.html", "text/html; charset=utf-8", 60) == "public, max-age=60"
    assert cache_control("theme/feed.atom.xml", "application/atom+xml", 0) == "public, max-age=0"
    assert cache_control("imagesque.png", "image/png", 300) == "public, max-age=300"


def test_prefix_is_a_folder():
    assert [_prefix(p) for p in ("", "/", "site", "/site/", "a/b/")] == ["", "", "site/", "site/", "a/b/"]


def test_local_files_skip_junk_and_use_posix_keys(tmp_path):
    for rel in ("index.html", "a/b.css", ".git/config", "a/.DS_Store", "x.png.tmp", ".well-known/security.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    found = local_files(tmp_path, "site/", 300)
    assert sorted(found) == ["site/.well-known/security.txt", "site/a/b.css", "site/index.html"]
    assert found["site/index.html"].md5 == "9dd4e461268c8034f5c8564e155c67a6"


def test_summary_and_lines():
    plan = PublishPlan("s3://b/site/", upload=[FileAction("site/index.html", Path("i"), 2048, "m", "text/html", "c")],
                       unchanged=[FileAction("site/a.png", Path("a"), 3 * 1024 * 1024)],
                       stale=[FileAction("site/old.html", None, 10)])
    assert plan.summary() == ("upload 1 (2.0 KB), unchanged 1 (3.0 MB), delete 0 (0 B), stale 1 kept "
                              "(pass delete to remove) -> s3://b/site/ (dry run, nothing changed)")
    assert plan.lines()[:2] == ["upload  site/index.html  2.0 KB  text/html  c", "stale   site/old.html  10 B  (kept)"]


def test_the_outbox_and_eml_files_are_never_published(tmp_path):
    (tmp_path / "index.html").write_text("<p>hi</p>")
    (tmp_path / "outbox" / "dry-run" / "weekly-2026-W46").mkdir(parents=True)
    (tmp_path / "outbox" / "dry-run" / "weekly-2026-W46" / "alice@example.org.eml").write_text("To: alice")
    (tmp_path / "stray.eml").write_text("To: bob")
    assert list(local_files(tmp_path, "", 300)) == ["index.html"]
