"""Site benchmark: stats per issue, charts, a full build of many issues, and an incremental build after one more.

The store is filled the way an admin's is: `invoke ingest`'s code over HTTP from the sandbox, which runs in its
own process. Then issues are computed and frozen for `--issues` weekly periods, and the site is built.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py would shadow the standard library's email package for scripts run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timezone

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import sandbox_settings, start_sandbox  # noqa: E402
import pipeline.render.charts as charts  # noqa: E402
from pipeline.clock import FixedClock  # noqa: E402
from pipeline.ingest.run import run_ingest  # noqa: E402
from pipeline.render.site.generate import render_site  # noqa: E402
from pipeline.stats.issue import compute_issue  # noqa: E402
from pipeline.stats.periods import latest_complete  # noqa: E402
from pipeline.stats.snapshots import save_snapshot  # noqa: E402
from pipeline.store import open_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--issues", type=int, default=200)
    args = parser.parse_args()
    days = args.issues * 7 + 14

    with tempfile.TemporaryDirectory(prefix="marquee-bench-site-") as tmp:
        work = Path(tmp)
        ns = argparse.Namespace(plays=args.plays, users=args.users, days=days, plex=True)
        proc, info = start_sandbox(ns, work)
        try:
            settings = sandbox_settings(info, work)
            clock = FixedClock(datetime.fromtimestamp(info["now"], timezone.utc))
            with open_store(settings) as store:
                t0 = time.monotonic()
                run_ingest(store, settings, clock)
                ingest_s = time.monotonic() - t0

                latest = latest_complete("weekly", clock.now(), settings.server.timezone)
                periods = [latest]
                while len(periods) < args.issues + 1:
                    periods.append(periods[-1].previous())
                periods.reverse()  # the newest is held back for the incremental build
                stats_s, snaps = [], []
                for period in periods:
                    t0 = time.monotonic()
                    snap = compute_issue(store, period, settings, clock.now())
                    stats_s.append(time.monotonic() - t0)
                    save_snapshot(store, period.issue_key, period, snap)
                    snaps.append(snap)
        finally:
            proc.terminate()
            proc.wait(30)

        chart_s = []
        charts.render(charts.issue_chart_specs(snaps[0])["heatmap"], "svg")  # engine warm-up, once per process
        for snap in snaps[-20:]:
            specs = charts.issue_chart_specs(snap)
            t0 = time.monotonic()
            for spec in specs.values():
                charts.render(spec, "svg")
                charts.render(spec, "png")
            chart_s.append(time.monotonic() - t0)

        t0 = time.monotonic()
        render_site(settings, snaps[:-1])
        full_s = time.monotonic() - t0
        t0 = time.monotonic()
        result = render_site(settings, snaps)
        incremental_s = time.monotonic() - t0
        t0 = time.monotonic()
        render_site(settings, snaps)
        nochange_s = time.monotonic() - t0
        shutil.rmtree(work / "output", ignore_errors=True)

    res = {"plays": info["plays"], "users": args.users, "issues": args.issues, "ingest_seconds": ingest_s,
           "stats_median": statistics.median(stats_s), "stats_max": max(stats_s),
           "charts_per_issue_median": statistics.median(chart_s), "full_build": full_s,
           "incremental_build": incremental_s, "incremental_written": len(result.written), "no_change_build": nochange_s}
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "site.json").write_text(json.dumps(res, indent=2))
    print("| plays | users | issues | stats per issue (median / max) | charts per issue (4 charts, SVG+PNG) "
          "| full build | +1 issue | no change |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {res['plays']:,} | {args.users:,} | {args.issues} | {res['stats_median']:.2f} s / {res['stats_max']:.2f} s "
          f"| {res['charts_per_issue_median']:.2f} s | {full_s:.1f} s | {incremental_s:.1f} s "
          f"({res['incremental_written']} files) | {nochange_s:.1f} s |")


if __name__ == "__main__":
    main()
