"""Issue #11, item 16: numbers that agree with each other, on the site, in the e-mail and in the terminal."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from email import message_from_bytes, policy
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.clock import FixedClock
from pipeline.render.email.digest import DigestRenderer
from pipeline.render.email.images import EmailImages
from pipeline.render.site.generate import render_site
from pipeline.run import commands
from pipeline.run.build import build_site
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from tests.fixtures import email_issue as fx
from tests.fixtures.leaving_queue import NOW as QUEUE_NOW
from tests.fixtures.leaving_queue import SCRIPT, queue_store

ROOT = Path(__file__).resolve().parents[2]


def site_settings(tmp_path: Path, **overrides):
    return load_settings(environ={}, dotenv_path=None, overrides={
        "data.dir": str(tmp_path / "data"), "site.output_dir": str(tmp_path / "output"),
        "server.name": "Kino", "server.timezone": fx.TZ, **overrides})


@pytest.fixture(scope="module")
def issue(tmp_path_factory):
    """The stats world's week as the site and the digest show it: Alien leads by hours, Heat by plays;
    the busiest hour by plays (Tuesday 08:00, two short tracks) is not the busiest by time (Thursday 20:00)."""
    tmp = tmp_path_factory.mktemp("numbers")
    snap = fx.snapshot()
    movies = snap["top"]["movies"]
    assert [m["title"] for m in movies["by_hours"][:2]] == [SCRIPT, "Heat"]  # Alien, renamed by the fixture
    assert [m["title"] for m in movies["by_plays"][:2]] == ["Heat", SCRIPT]
    settings = site_settings(tmp)
    render_site(settings, [snap])
    page = (Path(settings.site.output_dir) / "issues/2026-w46/index.html").read_text(encoding="utf-8")
    charts = fx.render_charts(tmp / "charts", snap)
    renderer = DigestRenderer(snap, fx.settings(**{"email.images": "inline"}), None,
                              EmailImages({}, charts), clock=FixedClock(fx.NOW))
    mail = message_from_bytes(renderer.render(fx.recipient(fx.ALICE)).mime, policy=policy.default)
    return page, mail.get_body(("html",)).get_content(), mail.get_body(("plain",)).get_content()


def _section(html: str, heading: str) -> str:
    found = re.search(rf">{heading}</h2>.*?</section>", html, re.S)
    assert found, heading
    return found.group(0)


def test_site_and_email_rank_top_titles_by_the_same_measure_and_say_which(issue):
    """Item 16: the site ranked top titles by plays and the e-mail by hours, and neither said so."""
    page, html, text = issue
    top = _section(page, "Most watched")
    assert "Ranked by hours watched this week." in top
    movies = re.search(r'<h3 class="group-title">Movies</h3>(.*?)</ol>', top, re.S).group(1)
    assert movies.index("&lt;script&gt;") < movies.index("Heat")  # by hours, as the e-mail
    assert "Ranked by hours watched." in html
    assert html.index("&lt;script&gt;") < html.index("Heat")
    assert "TOP MOVIES BY HOURS WATCHED" in text
    ranked = text[text.index("TOP MOVIES BY HOURS WATCHED"):]
    assert ranked.index(SCRIPT) < ranked.index("Heat")
    # each row leads with the measure it is ranked by
    assert re.search(r'ranked__meta">[\d.]+ h · \d+ plays?', top)


def test_the_heatmap_caption_states_the_same_figure_as_its_alt_text(issue):
    """Item 16: the chart's alt text counted plays while its caption spoke of time watched."""
    page, html, _ = issue
    figure = re.search(r'<figure class="chart">.*?</figure>', page, re.S).group(0)
    site_alt = unescape(re.search(r'alt="([^"]+)"', figure).group(1))
    caption = unescape(re.search(r"<figcaption[^>]*>(.*?)</figcaption>", figure, re.S).group(1))
    assert "Busiest: Tuesday 08:00 with 2 plays" in site_alt
    assert caption.startswith(site_alt)
    img = re.search(r'<img[^>]*alt="(Plays by day[^"]+)"', html)
    assert img, "the e-mail's heatmap has no alt text"
    mail_alt = unescape(img.group(1))
    after = unescape(re.sub(r"<[^>]+>", " ", html[img.end():]))
    assert mail_alt in " ".join(after.split())[:600]  # the note right under the chart


def test_leaving_soon_gives_each_title_its_day(tmp_path):
    """Item 16: "in the next 14 days" with no dates, for titles due tomorrow; `invoke build` now dates each one."""
    store = queue_store()
    try:
        settings = site_settings(tmp_path, **{"server.timezone": "America/New_York"})
        build_site(store, settings, FixedClock(QUEUE_NOW))
    finally:
        store.close()
    home = (Path(settings.site.output_dir) / "index.html").read_text(encoding="utf-8")
    block = re.search(r'<section class="wrap section leaving".*?</section>', home, re.S).group(0)
    assert "in the next 14 days" in block
    days = re.findall(r'<h3 class="leaving__day">Leaving <time datetime="([\d-]+)">([^<]+)</time></h3>', block)
    assert days == [("2026-11-16", "Monday 16 Nov"), ("2026-11-17", "Tuesday 17 Nov"),
                    ("2026-11-20", "Friday 20 Nov")]  # overdue shows as today; Heat's 03:00 UTC is the 17th locally
    order = [block.index(s) for s in ("Monday 16 Nov", "&lt;script&gt;", "Tuesday 17 Nov", "Severance", "Heat",
                                      "Friday 20 Nov", "Up <")]
    assert order == sorted(order)


@pytest.fixture
def sandbox_run(tmp_path):
    """The sandbox servers (a server in a zone other than UTC) and settings with a store of its own."""
    tmp = tmp_path
    world = generate(seed=1)
    assert world.timezone not in ("UTC", "Etc/UTC")
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    with TautulliSandbox(world) as t, PlexSandbox(world) as pms, PlexTvSandbox(world, pms_url=pms.url) as tv:
        settings = load_settings(environ={
            "TAUTULLI_URL": t.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
            "PLEX_TOKEN": world.owner_token, "MARQUEE_DATA_DIR": str(tmp / "data")}, dotenv_path=None, overrides={
            "plex.plextv_url": tv.url, "server.timezone": world.timezone, "tautulli.page_size": 100,
            "email.from_address": "news@example.org", "email.outbox_dir": str(tmp / "outbox")})
        yield world, settings, clock, tmp


def test_ingest_lines_count_pages_the_same_way(sandbox_run, capsys, caplog):
    """Item 16: "6,000 fetched in 3 requests" printed next to "fetched in 1 pages"."""
    world, settings, clock, _ = sandbox_run
    caplog.set_level(logging.INFO, logger="pipeline.ingest.history")
    commands.ingest(settings, clock)
    out = capsys.readouterr().out
    logged = next(r.getMessage() for r in caplog.records if "fetched in" in r.getMessage())
    pages = re.search(r"fetched in ([\d,]+) pages?\)", logged)
    assert pages and int(pages.group(1)) > 1, logged
    summary = next(line for line in out.splitlines() if line.startswith("plays:"))
    assert f"fetched in {pages.group(1)} pages of history;" in summary
    assert re.search(r"; [\d,]+ Tautulli requests in all\)$", summary), summary
    commands.ingest(settings, clock)  # nothing new: one page, said in the singular everywhere
    again = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("plays:"))
    assert "in 1 page of history" in again and "1 pages" not in again
    assert not any("1 pages" in r.getMessage() for r in caplog.records)


def test_enforce_shows_server_times_labelled_and_idle_days_rounded(sandbox_run, capsys):
    """Item 16: the plan printed unlabelled UTC next to the queue's local times, and "idle 1006.36 days"."""
    world, settings, clock, _ = sandbox_run
    commands.ingest(settings, clock)
    capsys.readouterr()
    commands.enforce(settings, clock)
    commands.retention(settings, "queue_lines", clock=clock)
    lines = capsys.readouterr().out.splitlines()
    local = datetime.fromtimestamp(world.now, timezone.utc).astimezone(ZoneInfo(settings.server.timezone))
    header = next(line for line in lines if line.startswith("user plan at"))
    assert header.startswith(f"user plan at {local:%Y-%m-%d %H:%M %Z}: ")
    dated = [line for line in lines if re.match(r"(warn|wait|remove) ", line)]
    assert dated and all(re.search(rf"\d\d:\d\d {local:%Z} ", line) for line in dated), dated[:3]
    assert any("since the last play on" in line for line in dated)  # a reason's own times, shown locally too
    assert [line for line in lines if "UTC" in line] == []
    assert any(line.startswith(("Deletion queue:", "Nothing is queued")) for line in lines)
    idle = [m.group(1) for line in lines for m in re.finditer(r"idle ([\d.,]+) days", line)]
    assert idle and not [d for d in idle if re.search(r"\.\d\d", d)], idle
    assert any("," in d for d in idle) or all(float(d.replace(",", "")) < 1000 for d in idle)


def test_log_lines_carry_the_server_time_zone(sandbox_run, tmp_path):
    """Item 16: log lines stamped in the machine's zone, unlabelled, beside the plan's server times."""
    world, settings, clock, _ = sandbox_run
    config = tmp_path / "marquee.toml"
    config.write_text(f'[server]\ntimezone = "{world.timezone}"\n[data]\ndir = "{tmp_path / "data"}"\n'
                      f'[tautulli]\nurl = "{settings.tautulli.url}"\n')
    env = {**os.environ, "TAUTULLI_API_KEY": world.tautulli_api_key, "TZ": "UTC"}
    with TautulliSandbox(world) as t:
        config.write_text(config.read_text().replace(settings.tautulli.url, t.url))
        done = subprocess.run([sys.executable, "-m", "invoke", "ingest", "--config", str(config)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    stamps = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\S+) INFO ", done.stderr, re.M)
    zone_names = {datetime.now(timezone.utc).astimezone(ZoneInfo(world.timezone)).strftime("%Z")}
    assert stamps and set(stamps) <= zone_names, done.stderr[:500]


def test_the_daemon_logs_server_times_too(sandbox_run, caplog):
    """Item 16: the daemon logged the plan in UTC and its next run as an ISO offset beside local log times."""
    from pipeline.run.daemon import ALL, Daemon

    world, settings, clock, _ = sandbox_run
    settings = settings.model_copy(update={"daemon": settings.daemon.model_copy(update={"ingest": True})})
    caplog.set_level(logging.DEBUG, logger="pipeline.run.daemon")
    assert Daemon(settings, clock, apply=False).tick(ALL) == "ok"
    said = [r.getMessage() for r in caplog.records if r.name == "pipeline.run.daemon"]
    zone = datetime.fromtimestamp(world.now, timezone.utc).astimezone(ZoneInfo(world.timezone)).strftime("%Z")
    assert any(re.search(rf"\(next run \d{{4}}-\d\d-\d\d \d\d:\d\d {zone}\)", m) for m in said), said[-3:]
    assert any(m.startswith("daemon: user plan at") for m in said)
    assert [m for m in said if "UTC" in m or "+00:00" in m] == []
