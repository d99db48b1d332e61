"""`invoke demo`: the sandbox servers on loopback, a throwaway config, and the pipeline run end to end."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.run.build import build_site
from pipeline.clock import Clock
from pipeline.run.enforce import run_enforce
from pipeline.ingest.run import run_ingest
from pipeline.run.send_issue import send_issue
from pipeline.media.commands import queue_lines
from pipeline.logs import REDACTOR, server_times, set_timezone
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store import open_store

log = logging.getLogger("marquee.demo")

DEMO_CONFIG = """\
# Written by `invoke demo`: the sandbox servers' addresses change every run.
[server]
name = "{name}"
timezone = "{tz}"

[tautulli]
url = "{tautulli}"

[plex]
url = "{plex}"
plextv_url = "{plextv}"

[data]
dir = "{data}"

[site]
output_dir = "{output}"

[email]
backend = "outbox"
from_address = "newsletter@example.org"
admin_email = "admin@example.org"
outbox_dir = "{data}/outbox"

[retention]
# The demo's assignments come from marquee:<user> labels in the sandbox Plex; no retention.toml.
file = "{data}/retention.toml"
"""


def run_demo(root: Path, clock: Clock) -> Path:
    """Seed a world for `clock.now()`, serve it, and ingest it into <root>/data/demo."""
    data = (root / "data" / "demo").resolve()
    data.mkdir(parents=True, exist_ok=True)
    for stale in data.glob("marquee.duckdb*"):
        stale.unlink()  # a fresh world each run; old plays would not line up with it
    now = int(clock.now().timestamp()) // 3600 * 3600
    world = generate(seed=7, users=24, plays=6000, now=now)
    REDACTOR.add(world.tautulli_api_key, world.owner_token)
    set_timezone(world.timezone)  # log times in the sandbox server's zone, like the plan it prints

    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as plex, \
            PlexTvSandbox(world, pms_url=plex.url) as plextv:
        config = data / "marquee.toml"
        config.write_text(DEMO_CONFIG.format(
            name=world.server_name, tz=world.timezone, tautulli=tautulli.url, plex=plex.url,
            plextv=plextv.url, data=data, output=(root / "output").resolve()))
        settings = load_settings(config, environ={
            "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_TOKEN": world.owner_token}, dotenv_path=None)
        with open_store(settings) as store:
            summary = run_ingest(store, settings, clock)
            for line in summary.lines():
                print(line)
            # A dry run: decides (and fills the deletion queue the site and digests announce), changes nothing.
            enforcement = run_enforce(store, settings, clock, apply=False)
            queued = queue_lines(store, settings, clock)
            built = build_site(store, settings, clock)
            for line in built.lines():
                print(line)
            mailed = send_issue(store, settings, clock)  # a dry run: .eml files, nothing sent
    print(mailed.line())
    print("\nThe enforcement plan for the sandbox (`invoke enforce`; nothing is applied):")
    for line in enforcement.lines:
        print(f"  {server_times(line, settings.server.timezone)}")
    print("\nThe deletion queue (`invoke queue`):")
    for line in queued:
        print(f"  {server_times(line, settings.server.timezone)}")
    index = settings.site.output_dir / "index.html"
    print(f"\nThe demo's archive site: {index}")
    print("  open it in a browser, or run `invoke serve` and visit http://127.0.0.1:8000/")
    print(f"The demo's e-mails (one per reader, as .eml files): {settings.email.outbox_dir}/dry-run/")
    print(f"The demo's store: {settings.data.db_path} (tables in docs/schema.md)")
    return data
