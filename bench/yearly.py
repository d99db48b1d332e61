"""Year-in-review benchmark: the yearly issue for 1M plays and 2,000 readers — stats, charts and its site page.

The store is filled the way an admin's is (ingest over HTTP from the sandbox in its own process, Plex too, so
genres and the library are there), for a world that ends early in January, so a whole year lies behind it.
Then the year is computed and frozen, its charts rendered (the co-watch graph's layout included) and the site
built with that one issue.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py would shadow the standard library's email package for scripts run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.clock import FixedClock  # noqa: E402
from pipeline.ingest.run import run_ingest  # noqa: E402
from pipeline.render.issue_view import namer_for  # noqa: E402
from pipeline.render.site.assets import issue_charts  # noqa: E402
from pipeline.render.site.generate import render_site  # noqa: E402
from pipeline.render.year_charts import GRAPH_EDGES, GRAPH_NODES, capped_graph, graph_chart  # noqa: E402
from pipeline.render.year_view import public_graph  # noqa: E402
from bench.ingest import launch, sandbox_settings  # noqa: E402
from pipeline.stats.issue import compute_issue  # noqa: E402
from pipeline.stats.period_cache import shared_period  # noqa: E402
from pipeline.stats.periods import parse_period  # noqa: E402
from pipeline.stats.queries import run, stats_queries  # noqa: E402
from pipeline.stats.snapshots import save_snapshot  # noqa: E402
from pipeline.store import open_store  # noqa: E402

NOW = datetime(2027, 1, 4, 17, 0, tzinfo=timezone.utc)


def sandbox(args, work: Path) -> tuple[subprocess.Popen, dict]:
    return launch(["-m", "pipeline.sandbox", "--plays", str(args.plays), "--users", str(args.users), "--days", "400",
                   "--now", str(int(NOW.timestamp())), "--no-arr"], work, wait_seconds=900)


def query_times(store, period) -> dict[str, float]:
    """Each stats and year query of the yearly issue on its own, as compute_issue runs it (reading the period's
    sessions and titles grouped once), slowest first, after the time that grouping takes: where the stats time goes."""
    params = {"start": period.start, "end": period.end, "prev_start": period.previous().start,
              "tz": period.tz, "limit": 10, "min_viewers": 2}
    times = {}
    t0 = time.monotonic()
    with shared_period(store, period):
        times["period_cache"] = round(time.monotonic() - t0, 2)
        for name in [f"stats/{n}" for n in stats_queries()] + ["year/library_growth", "year/admin_figures"]:
            t0 = time.monotonic()
            run(store, name, params)
            times[name] = round(time.monotonic() - t0, 2)
    return dict(sorted(times.items(), key=lambda kv: -kv[1]))


def graph_cap(snap: dict) -> dict:
    """The co-watch graph's cap at this size: every reader's pairs in, what is laid out, and what it costs."""
    year = snap["year"]
    pairs = [(uid, str(c["other_id"]), c["shared"]) for uid, u in year["users"].items() for c in u["cowatchers"]]
    hours = {uid: u["totals"]["hours"] for uid, u in snap["users"].items()}
    t0 = time.monotonic()
    drawn = capped_graph(hours, pairs)  # all of them, not only the snapshot's heaviest: the worst case
    cap_s = time.monotonic() - t0
    t0 = time.monotonic()
    graph_chart(drawn, {}, "bench")  # the spring layout and the spec
    layout_s = time.monotonic() - t0
    return {"readers_paired": len({p[0] for p in pairs}), "pairs_in": len(pairs),
            "snapshot_edges": len(year["cowatch_edges"]), "cap": {"nodes": GRAPH_NODES, "edges": GRAPH_EDGES},
            "nodes_laid_out": drawn.number_of_nodes(), "edges_laid_out": drawn.number_of_edges(),
            "cap_s": round(cap_s, 3), "layout_s": round(layout_s, 3)}


def ingested_store(args, work: Path) -> tuple[dict, float]:
    """Fill work's store by ingest from the sandbox (or copy --from-store's); the sandbox info and ingest seconds."""
    if args.from_store:
        source = Path(args.from_store)
        (work / "data").mkdir(mode=0o700)
        shutil.copy(source / "marquee.duckdb", work / "data" / "marquee.duckdb")
        return json.loads((source / "sandbox.json").read_text()), 0.0
    proc, info = sandbox(args, work)
    try:
        settings = sandbox_settings(info, work)
        with open_store(settings) as store:
            t0 = time.monotonic()
            run_ingest(store, settings, FixedClock(NOW))
            ingest_s = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(30)
    if args.keep_store:
        keep = Path(args.keep_store)
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "data" / "marquee.duckdb", keep / "marquee.duckdb")
        (keep / "sandbox.json").write_text(json.dumps(info))
    return info, ingest_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--keep-store", metavar="DIR", help="copy the ingested store (and the sandbox's info) here")
    parser.add_argument("--from-store", metavar="DIR", help="start from a --keep-store copy: no sandbox, no ingest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marquee-bench-yearly-") as tmp:
        work = Path(tmp)
        info, ingest_s = ingested_store(args, work)
        settings = sandbox_settings(info, work)
        clock = FixedClock(NOW)
        with open_store(settings) as store:
            period = parse_period("2026", settings.server.timezone)
            t0 = time.monotonic()
            snap = compute_issue(store, period, settings, clock.now())
            stats_s = time.monotonic() - t0
            save_snapshot(store, period.issue_key, period, snap)
            plays = store.con.execute("SELECT count(*) FROM tautulli_history").fetchone()[0]
            per_query = query_times(store, period)
        namer = namer_for(snap, settings.site.names, settings.site.exclude_users)
        t0 = time.monotonic()
        charts = issue_charts(snap, work / "charts", public_graph(snap, namer))
        charts_s = time.monotonic() - t0
        t0 = time.monotonic()
        render_site(settings, [snap])
        site_s = time.monotonic() - t0  # its charts are cached by then: the page itself and Pelican
        year = snap["year"]
        result = {"plays_in_store": plays, "readers": len(snap["users"]), "plays_in_year": snap["totals"]["plays"],
                  "cowatch_edges": len(year["cowatch_edges"]), "charts": sorted(charts), "graph": graph_cap(snap),
                  "ingest_s": round(ingest_s, 1), "stats_s": round(stats_s, 2), "charts_s": round(charts_s, 2),
                  "site_s": round(site_s, 2), "yearly_total_s": round(stats_s + charts_s + site_s, 2),
                  "per_query_s": per_query, "load_avg": os.getloadavg(), "cpus": os.cpu_count()}
        print(json.dumps(result, indent=1))

if __name__ == "__main__":
    main()
