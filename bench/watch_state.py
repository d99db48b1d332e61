"""Plex watch-state benchmark (issue #13): read every assignee's own watch state for 3,000 assigned items.

`python bench/watch_state.py` (under `flock /tmp/marquee-bench.lock`). The sandbox Tautulli, Plex and plex.tv
run in their own process (`--serve`), so their CPU is not counted as Marquee's. Marquee ingests the world once
over loopback (not measured), gets `--items` movies and episodes assigned to `--per-item` of `--assignees`
shared users each (`invoke assign`'s rows), with a third of the pairs marked watched in Plex and no Tautulli
play for them; then the watch-state step of `invoke ingest` (pipeline.ingest.plex_watch) runs `--repeat`
times. Reported: HTTP requests made (counted on the session), wall and CPU time of Marquee's process, medians.
Target: under 30 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py would shadow the standard library's email package for scripts run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timezone

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import launch, sandbox_settings, serve_world  # noqa: E402

TARGET_SECONDS = 30


def pick(world, items: int, assignees: int, per_item: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(item, user) assignments and the pairs marked watched in Plex: every item `per_item` users, round-robin."""
    import numpy as np

    rng = np.random.default_rng([world.seed, 13])
    users = sorted(u.user_id for u in world.users if not u.is_owner and u.has_share and u.share_id
                   and u.all_libraries)[:assignees]
    if len(users) < assignees:
        raise SystemExit(f"the world has {len(users)} shared users with every library; raise --users")
    leaves = sorted(rk for rk, i in world.items.items() if i.type in ("movie", "episode"))
    if len(leaves) < items:
        raise SystemExit(f"the world has {len(leaves)} movies and episodes; raise --users")
    chosen = sorted(rng.choice(leaves, items, replace=False).tolist())
    pairs = [(rk, users[(n * per_item + k) % len(users)]) for n, rk in enumerate(chosen) for k in range(per_item)]
    marked = [pairs[i] for i in sorted(rng.choice(len(pairs), len(pairs) // 3, replace=False).tolist())]
    return pairs, marked


def serve(args) -> None:
    """Generate the world, mark a third of the assigned pairs watched in Plex, serve until SIGTERM."""
    from pipeline.sandbox.seed import generate

    world = generate(seed=1, users=args.users, plays=args.plays)
    pairs, marked = pick(world, args.items, args.assignees, args.per_item)
    for rk, uid in marked:  # as /:/scrobble leaves it: no Tautulli play behind it
        world.view_marks[(uid, rk)] = (1, 0, world.now - 3600)
    serve_world(world, args.info_file, pairs=pairs, marked=len(marked))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000, help="assigned movies and episodes")
    parser.add_argument("--assignees", type=int, default=200, help="shared users they are assigned to")
    parser.add_argument("--per-item", type=int, default=2, help="assignees per item")
    parser.add_argument("--users", type=int, default=300, help="users in the world (more users, more items)")
    parser.add_argument("--plays", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--info-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args)

    os.environ["PLEXAPI_PLEXAPI_AUTORELOAD"] = "false"
    from pipeline.clock import FixedClock
    from pipeline.ingest.plex_watch import ingest_watch_state
    from pipeline.ingest.run import run_ingest
    from pipeline.media.assignments import write_pairs
    from pipeline.store import open_store

    with tempfile.TemporaryDirectory(prefix="marquee-watch-bench-") as tmp:
        work = Path(tmp)
        argv = [str(Path(__file__).resolve()), "--serve", "--items", str(args.items), "--assignees",
                str(args.assignees), "--per-item", str(args.per_item), "--users", str(args.users),
                "--plays", str(args.plays)]
        proc, info = launch(argv, work)
        try:
            settings = sandbox_settings(info, work)
            now = datetime.fromtimestamp(info["now"], timezone.utc)
            clock = FixedClock(now)
            with open_store(settings) as store:
                t0 = time.monotonic()
                run_ingest(store, settings, clock)
                setup_s = time.monotonic() - t0
                with store.transaction():
                    write_pairs(store, "cli", [tuple(p) for p in info["pairs"]], now, replace=False)
                runs = []
                for _ in range(args.repeat):
                    wall, cpu = time.monotonic(), time.process_time()
                    read = ingest_watch_state(store, settings, now)
                    runs.append({"wall_s": time.monotonic() - wall, "cpu_s": time.process_time() - cpu,
                                 "requests": read.http_requests, "users": read.users, "items": read.items,
                                 "watched": read.watched, "unread": len(read.unread)})
                stored = store.con.execute("SELECT count(*), count(*) FILTER (WHERE view_count > 0) "
                                           "FROM plex_watch_state").fetchall()[0]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    wall = statistics.median(r["wall_s"] for r in runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    last = runs[-1]
    print(f"world: {info['users']} users, {info['plays']:,} plays; {args.items:,} assigned items x {args.per_item} "
          f"assignees = {len(info['pairs']):,} (user, item) pairs across {args.assignees} assignees; "
          f"{info['marked']:,} pairs marked watched in Plex (setup ingest {setup_s:.1f} s)")
    print(f"read: {last['users']} assignees, {last['items']:,} states ({last['watched']:,} watched), "
          f"{last['unread']} not read; stored {stored[0]:,} ({stored[1]:,} watched)")
    print(f"HTTP requests per read: {last['requests']:,} (one per item would be {len(info['pairs']):,} + tokens)")
    print(f"wall {wall:.2f} s, CPU {cpu:.2f} s (median of {len(runs)}; runs: "
          + ", ".join(f"{r['wall_s']:.2f}/{r['cpu_s']:.2f}" for r in runs) + ")")
    print(f"target: under {TARGET_SECONDS} s: {'met' if wall < TARGET_SECONDS else 'NOT met'}")
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load: {load}")


if __name__ == "__main__":
    main()
