"""Serve a sandbox world until interrupted: `python -m pipeline.sandbox --plays 1000000 --users 2000`.

Benchmarks run it in its own process so its memory and CPU are not counted as Marquee's.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--plays", type=int, default=6000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--now", type=int, default=None, help="epoch seconds the world is generated for")
    parser.add_argument("--no-plex", action="store_true", help="serve Tautulli only")
    parser.add_argument("--no-arr", action="store_true", help="do not serve the Sonarr and Radarr sandboxes")
    parser.add_argument("--tautulli-cost", choices=["none", "measured"], default="none",
                        help="measured: get_history takes as long as a real Tautulli 2.17 (per row loaded and scanned)")
    parser.add_argument("--info-file", type=Path, help="write URLs and credentials here as JSON once serving")
    args = parser.parse_args(argv)

    from pipeline.sandbox.seed import generate
    from pipeline.sandbox.tautulli import MEASURED_PER_ROW, MEASURED_PER_SCANNED_ROW, HistoryCost, TautulliSandbox

    started = time.monotonic()
    world = generate(seed=args.seed, users=args.users, plays=args.plays, days=args.days, now=args.now)
    tautulli = TautulliSandbox(world)
    if args.tautulli_cost == "measured":
        tautulli.cost = HistoryCost(per_row=MEASURED_PER_ROW, per_scanned_row=MEASURED_PER_SCANNED_ROW)
    servers = [tautulli.start()]
    info = {"tautulli_url": servers[0].url, "tautulli_api_key": world.tautulli_api_key,
            "plays": len(world.plays), "users": len(world.users), "now": world.now,
            "timezone": world.timezone, "generated_seconds": round(time.monotonic() - started, 2)}
    if not args.no_plex:
        from pipeline.sandbox.plex import PlexSandbox
        from pipeline.sandbox.plextv import PlexTvSandbox

        plex = PlexSandbox(world).start()
        plextv = PlexTvSandbox(world, pms_url=plex.url).start()
        servers += [plex, plextv]
        info.update(plex_url=plex.url, plextv_url=plextv.url, plex_token=world.owner_token)
    if not args.no_arr:
        from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox

        sonarr, radarr = SonarrSandbox(world, upcoming=True).start(), RadarrSandbox(world, upcoming=True).start()
        servers += [sonarr, radarr]
        info.update(sonarr_url=sonarr.url, sonarr_api_key=sonarr.api_key,
                    radarr_url=radarr.url, radarr_api_key=radarr.api_key)
    text = json.dumps(info, indent=2)
    if args.info_file:
        tmp = args.info_file.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(args.info_file)  # readers never see half a file
    print(text, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for server in servers:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
