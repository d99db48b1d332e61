"""Over the sandboxes (Tautulli, Plex, plex.tv on loopback): a reader whose share leaves out Kids gets no Kids title."""

from __future__ import annotations

from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser

from pipeline.clock import FixedClock
from pipeline.ingest.run import run_ingest
from pipeline.run.send_issue import send_issue
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.sandbox.world import Section
from pipeline.settings import load_settings
from pipeline.stats.freeze import freeze_issues
from pipeline.store import open_store

KIDS = 9


def parts_of(path) -> str:
    """The HTML and the plain-text part of one .eml, together."""
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    return "\n".join(msg.get_body((kind,)).get_content() for kind in ("html", "plain"))


def test_a_share_without_kids_means_no_kids_title_anywhere_in_that_readers_email(tmp_path):
    world = generate(seed=5, users=24, plays=3000)
    world.sections.append(Section(KIDS, "Kids", "movie", world.now))
    for item in world.items.values():  # every movie moves to Kids: new ones and watched ones alike
        if item.type == "movie":
            item.section_id = KIDS
    readers = [u for u in world.users if u.email and not u.is_owner and u.has_share and u.accepted_at]
    kept_out, full = readers[0], readers[1]
    kept_out.all_libraries, kept_out.section_ids = False, tuple(s.section_id for s in world.sections
                                                               if s.section_id != KIDS)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as pms, PlexTvSandbox(world) as tv:
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
            "PLEX_TOKEN": world.owner_token, "MARQUEE__PLEX__PLEXTV_URL": tv.url,
            "MARQUEE_DATA_DIR": str(tmp_path / "data")}, dotenv_path=None, overrides={
            "server.timezone": world.timezone, "server.name": world.server_name, "newsletter.backfill": 0,
            "email.from_address": "newsletter@example.org", "email.outbox_dir": str(tmp_path / "outbox"),
            "site.posters": False, "site.output_dir": str(tmp_path / "output")})
        with open_store(settings) as store:
            run_ingest(store, settings, clock)
            (key,) = freeze_issues(store, settings, clock.now()).frozen
            send_issue(store, settings, clock)
    folder = tmp_path / "outbox" / "dry-run" / key
    full_html, kept_html = parts_of(folder / f"{full.email}.eml"), parts_of(folder / f"{kept_out.email}.eml")
    others = [i.title for i in world.items.values() if i.section_id != KIDS]
    kids = {i.title for i in world.items.values() if i.section_id == KIDS and len(i.title) > 3
            and not any(i.title in t for t in others)}
    seen = {t for t in kids if t in full_html}
    assert seen, "the issue lists Kids titles, or this test proves nothing"
    assert not {t for t in kids if t in kept_html}
