"""Issue 11, item 12: readers' .eml files are never servable. The outbox lives in the data dir, a setting that puts
it inside the site is refused, and `invoke serve` answers 404 for /outbox/ (and any .eml) even when old files sit
in output/ from before the move."""

from __future__ import annotations

import threading

import pytest
import requests

from pipeline.errors import ConfigError
from pipeline.run import commands
from pipeline.settings import load_settings
from tests.fixtures.sandbox_issue import sandbox_issue


@pytest.fixture
def built(tmp_path):
    """The sandbox issue, built into tmp_path/output, then sent as a dry run with the default outbox_dir."""
    with sandbox_issue(tmp_path) as (settings, clock, readers):
        s = settings()
        commands.build(s, clock, ingest_first=False)
        commands.send(s, clock)
        yield s, readers


def serving(settings):
    """`invoke serve`'s server on a free port, in a thread; yields its base URL."""
    server = commands.site_server(settings, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_dry_run_writes_the_outbox_in_the_data_dir_and_nothing_under_the_site(built, tmp_path):
    """Item 12: after `invoke build` and a dry-run `invoke send`, the site holds no e-mail at all."""
    settings, readers = built
    assert settings.email.outbox_dir == tmp_path / "data" / "outbox"
    written = {p.name.removesuffix(".eml") for p in (settings.email.outbox_dir / "dry-run").rglob("*.eml")}
    assert readers <= written
    site = tmp_path / "output"
    assert (site / "index.html").is_file()
    assert list(site.rglob("*.eml")) == [] and not any(p.name == "outbox" for p in site.rglob("*"))


def test_serve_answers_404_for_the_outbox_and_eml_files(built, tmp_path):
    """Item 12: even an output/outbox/ left by an older version is never served."""
    settings, readers = built
    stale = tmp_path / "output" / "outbox" / "dry-run" / "weekly-2026-W46"
    stale.mkdir(parents=True)
    (stale / "alice@example.org.eml").write_text("To: alice@example.org\r\n\r\nhi\r\n")
    (tmp_path / "output" / "stray.eml").write_text("To: bob@example.org\r\n\r\nhi\r\n")

    for base in serving(settings):
        assert requests.get(f"{base}/", timeout=10).status_code == 200
        for path in ("/outbox/", "/outbox", "/outbox/dry-run/", "/outbox/dry-run/weekly-2026-W46/",
                     "/outbox/dry-run/weekly-2026-W46/alice@example.org.eml", "/%6Futbox/dry-run/",
                     "/stray.eml", "/./outbox/"):
            answer = requests.get(base + path, timeout=10, allow_redirects=False)
            assert answer.status_code == 404, path
            assert "alice@example.org" not in answer.text


def test_an_outbox_inside_the_site_is_refused_in_one_line(tmp_path):
    """Item 12: the old default (output/outbox) now names what to change instead of exposing readers."""
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={}, dotenv_path=None, overrides={
            "site.output_dir": str(tmp_path / "output"), "email.outbox_dir": str(tmp_path / "output" / "outbox")})
    message = str(refused.value)
    assert message.startswith("email.outbox_dir (") and "inside site.output_dir" in message
    assert "data/outbox" in message and "\n" not in message
