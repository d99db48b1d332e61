"""Coming soon over the sandboxes (Tautulli, Plex, plex.tv, Sonarr, Radarr on loopback): the calendars are read with
the exact calls, frozen into the issue, grouped by show in the digest and on the site, and cut to the libraries a
reader (or the public site) may see."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest

from pipeline.clock import FixedClock
from pipeline.render.issue_view import short_day
from pipeline.run import commands
from pipeline.run.send_issue import send_issue
from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox
from pipeline.sandbox.arr_seed import DAY
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.sandbox.world import Section
from pipeline.settings import load_settings
from pipeline.stats.snapshots import load_snapshot
from pipeline.store import open_store

KIDS = 9
KIDS_SHOW = "Tiny Explorers"  # in Sonarr under the Kids library's folder; Plex has none of it yet


def parts_of(path) -> str:
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    return "\n".join(msg.get_body((kind,)).get_content() for kind in ("html", "plain"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One ingest, freeze, dry-run send and site build; what the tests look at."""
    tmp = tmp_path_factory.mktemp("coming")
    world = generate(seed=5, users=24, plays=3000)
    world.sections.append(Section(KIDS, "Kids", "show", world.now, "/data/media/Kids"))
    readers = [u for u in world.users if u.email and not u.is_owner and u.has_share and u.accepted_at]
    kept_out, full = readers[0], readers[1]
    kept_out.all_libraries, kept_out.section_ids = False, tuple(s.section_id for s in world.sections
                                                               if s.section_id != KIDS)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as pms, PlexTvSandbox(world) as tv, \
            SonarrSandbox(world, upcoming=True) as sonarr, RadarrSandbox(world, upcoming=True) as radarr:
        sonarr.data.add_upcoming_series(KIDS_SHOW, 2027, f"/data/media/Kids/{KIDS_SHOW}", days=(2, 5))
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
            "PLEX_TOKEN": world.owner_token, "MARQUEE__PLEX__PLEXTV_URL": tv.url,
            "SONARR_URL": sonarr.url, "SONARR_API_KEY": sonarr.api_key,
            "RADARR_URL": radarr.url, "RADARR_API_KEY": radarr.api_key,
            "MARQUEE_DATA_DIR": str(tmp / "data")}, dotenv_path=None, overrides={
            "server.timezone": world.timezone, "server.name": world.server_name, "newsletter.backfill": 0,
            "newsletter.coming_soon_days": 30, "site.public_libraries": ["Movies", "TV Shows", "Music"],
            "email.from_address": "newsletter@example.org", "email.outbox_dir": str(tmp / "outbox"),
            "site.posters": False, "site.output_dir": str(tmp / "output")})
        printed = io.StringIO()
        with redirect_stdout(printed):
            commands.build(settings, clock)  # `invoke build`: ingest (calendars too), freeze, site
        with open_store(settings) as store:
            (key,) = [row["issue_key"] for row in store.records("issues/all_issues")]
            send_issue(store, settings, clock)
            snapshot = load_snapshot(store, key)
        calls = {"sonarr": [(r.method, r.path, dict(r.query)) for r in sonarr.requests],
                 "radarr": [(r.method, r.path, dict(r.query)) for r in radarr.requests]}
        site_then = "\n".join(p.read_text() for p in (tmp / "output").rglob("*.html"))
        # Sonarr stops expecting Harbour Lights; a later build reads that, and the frozen issue keeps what it showed.
        harbour = next(sid for sid, s in sonarr.data.series.items() if s["title"] == "Harbour Lights")
        sonarr.data.series[harbour]["monitored"] = False
        with redirect_stdout(io.StringIO()):
            commands.build(settings, clock)
        with open_store(settings) as store:
            stored_later = [t for (t,) in store.con.execute("SELECT DISTINCT title FROM arr_calendar").fetchall()]
            snapshot_later = load_snapshot(store, key)
    folder = tmp / "outbox" / "dry-run" / key
    site = "\n".join(p.read_text() for p in (tmp / "output").rglob("*.html"))
    return {"world": world, "snapshot": snapshot, "calls": calls, "printed": printed.getvalue(), "site": site,
            "site_then": site_then, "stored_later": stored_later, "snapshot_later": snapshot_later,
            "full": parts_of(folder / f"{full.email}.eml"), "kept_out": parts_of(folder / f"{kept_out.email}.eml"),
            "now": clock.now()}


def test_the_calendars_are_read_with_exactly_these_calls(run):
    now = run["now"]
    start, end = now.strftime("%Y-%m-%dT%H:%M:%SZ"), datetime.fromtimestamp(
        now.timestamp() + 30 * DAY, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert run["calls"]["sonarr"] == [("GET", "/api/v3/calendar", {
        "start": start, "end": end, "unmonitored": "false", "includeSeries": "true"})]
    assert run["calls"]["radarr"] == [("GET", "/api/v3/calendar", {"start": start, "end": end,
                                                                    "unmonitored": "false"})]
    assert "Sonarr calendar: " in run["printed"] and "Radarr calendar: " in run["printed"]


def test_episodes_are_grouped_by_show_with_days_in_the_servers_zone(run):
    items = run["snapshot"]["coming_soon"]["items"]
    harbour = [i for i in items if i["title"] == "Harbour Lights"]
    assert len(harbour) == 1 and harbour[0]["episodes"] == "E1–E2" and harbour[0]["items"] == 2
    airs = datetime.fromtimestamp(run["world"].now + 3 * DAY + 20 * 3600, timezone.utc)
    local = airs.astimezone(ZoneInfo(run["world"].timezone)).date().isoformat()
    assert harbour[0]["first_day"] == local
    row = f"S1 E1–E2 · from {short_day(local)}"
    for html in (run["full"], run["site"]):
        assert "Coming soon" in html and "Harbour Lights" in html
        assert row in html
    assert "The Paper Orchard" in run["full"]  # a movie released digitally in two days


def test_a_reader_without_the_kids_library_never_sees_a_kids_show_coming(run):
    assert KIDS_SHOW in run["full"]
    assert "Harbour Lights" in run["kept_out"]
    assert KIDS_SHOW not in run["kept_out"]


def test_the_public_site_leaves_out_a_non_public_librarys_coming_show(run):
    kids = [i for i in run["snapshot"]["coming_soon"]["items"] if i["title"] == KIDS_SHOW]
    assert kids and kids[0]["sections"] == [KIDS]  # matched by the folder, frozen with the issue
    assert "Harbour Lights" in run["site"]
    assert KIDS_SHOW not in run["site"]


def test_a_frozen_issue_keeps_its_coming_soon_after_the_calendar_changes(run):
    assert "Harbour Lights" not in run["stored_later"] and run["stored_later"]  # the second build read the change
    assert run["snapshot_later"] == run["snapshot"]
    assert "Harbour Lights" in run["site"] and run["site"] == run["site_then"]
