"""`invoke demo`: the sandbox servers on loopback, a throwaway config, and the pipeline run end to end.

Everything the demo makes lives in data/demo/ (its config, store, site and e-mails), so a real setup's
data/marquee.duckdb and output/ never hold the sandbox's issues, and `invoke publish` never uploads them.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from pipeline.run.build import build_site
from pipeline.clock import Clock
from pipeline.run.enforce import run_enforce
from pipeline.ingest.run import run_ingest
from pipeline.run.send_issue import send_issue
from pipeline.media.commands import queue_lines
from pipeline.logs import REDACTOR, server_times, set_timezone
from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.seerr import APPROVED, PENDING, SeerrSandbox
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store import open_store

log = logging.getLogger("marquee.demo")

DEMO_CONFIG = """\
# Written by `invoke demo`: the sandbox servers' addresses change every run. Its commands read the demo's
# store with this file, e.g. `invoke queue --config data/demo/marquee.toml`.
[server]
name = "{name}"
timezone = "{tz}"

[tautulli]
url = "{tautulli}"

[plex]
url = "{plex}"
plextv_url = "{plextv}"

[sonarr]
url = "{sonarr}"

[radarr]
url = "{radarr}"

[seerr]
url = "{seerr}"

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


def run_demo(root: Path, clock: Clock, output: Path | None = None) -> Path:
    """Seed a world for `clock.now()`, serve it, ingest it into <root>/data/demo; the site goes to output
    (default <root>/data/demo/output, never the real site's output/)."""
    data = (root / "data" / "demo").resolve()
    data.mkdir(parents=True, exist_ok=True)
    for stale in data.glob("marquee.duckdb*"):
        stale.unlink()  # a fresh world each run; old plays would not line up with it
    now = int(clock.now().timestamp()) // 3600 * 3600
    world = generate(seed=7, users=24, plays=6000, now=now)
    REDACTOR.add(world.tautulli_api_key, world.owner_token)
    set_timezone(world.timezone)  # log times in the sandbox server's zone, like the plan it prints

    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as plex, \
            PlexTvSandbox(world, pms_url=plex.url) as plextv, SonarrSandbox(world, upcoming=True) as sonarr, \
            RadarrSandbox(world, upcoming=True) as radarr, SeerrSandbox(world) as seerr:
        _seed_requests(world, seerr)
        config = data / "marquee.toml"
        config.write_text(DEMO_CONFIG.format(
            name=world.server_name, tz=world.timezone, tautulli=tautulli.url, plex=plex.url,
            plextv=plextv.url, sonarr=sonarr.url, radarr=radarr.url, seerr=seerr.url,
            data=data, output=(output or data / "output").resolve()))
        settings = load_settings(config, environ={
            "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_TOKEN": world.owner_token,
            "SONARR_API_KEY": sonarr.api_key, "RADARR_API_KEY": radarr.api_key,
            "SEERR_API_KEY": seerr.api_key}, dotenv_path=None)
        with open_store(settings) as store:
            summary = run_ingest(store, settings, clock, calendars=True)
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
    # Every command the demo suggests reads the demo's store: a bare `invoke queue` would read the real, empty one.
    config_flag = f"--config {_shown(config, root)}"
    print(f"\nThe enforcement plan for the sandbox (`invoke enforce {config_flag}`; nothing is applied):")
    for line in enforcement.lines:
        print(f"  {_with_config(server_times(line, settings.server.timezone), config_flag)}")
    print(f"\nThe deletion queue (`invoke queue {config_flag}`):")
    for line in queued:
        print(f"  {_with_config(server_times(line, settings.server.timezone), config_flag)}")
    index = settings.site.output_dir / "index.html"
    print(f"\nThe demo's archive site: {_shown(index, root)}")
    print(f"  open it in a browser, or run `invoke serve {config_flag}` and visit http://127.0.0.1:8000/")
    print(f"The demo's e-mails (one per reader, as .eml files): {_shown(settings.email.outbox_dir, root)}/dry-run/")
    print(f"The demo's store: {_shown(settings.data.db_path, root)} (tables in docs/schema.md)")
    print(f"All of it lives in {_shown(data, root)}/; your own setup (marquee.toml, data/marquee.duckdb, output/) "
          "is separate and untouched.")
    return data


def _seed_requests(world, seerr: SeerrSandbox) -> None:
    """A few readers' requests, so the demo's digests open with "Your requests": one the newest movie answered,
    one approved and one waiting for titles Plex does not have yet."""
    readers = sorted((u for u in world.users if u.has_share and not u.is_owner), key=lambda u: u.user_id)[:3]
    newest = max((i for i in world.items.values() if i.type == "movie"), key=lambda i: (i.added_at, i.rating_key))
    for reader in readers:
        uid = seerr.user_for(reader.user_id)
        seerr.request(uid, newest.rating_key)
        seerr.request(uid, tmdb_id=1233413, title="Sinners", year=2025, status=APPROVED)
        seerr.request(uid, tmdb_id=1100988, title="28 Years Later", year=2025, status=PENDING)


def _shown(path: Path, root: Path) -> str:
    """A path as the admin types it from where they ran `invoke demo`: relative when it is under that folder."""
    rel = os.path.relpath(path, root.resolve())
    return path.as_posix() if rel.startswith("..") else Path(rel).as_posix()


def _with_config(line: str, config_flag: str) -> str:
    """A printed line whose `invoke TASK` hints carry the demo's --config."""
    return re.sub(r"`invoke ([a-z-]+)", lambda m: f"`invoke {m.group(1)} {config_flag}", line)
