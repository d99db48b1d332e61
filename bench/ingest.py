"""Ingest benchmark: Marquee's full and no-change runs against the floor of downloading and parsing the pages.

The sandbox runs in its own process, so its CPU and memory are not counted as Marquee's.
Each Marquee run is a fresh `invoke ingest` process: wall time includes Python start-up, and peak RSS is
that process's own (ru_maxrss of the child).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py would shadow the standard library's email package for scripts run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time

import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def start_sandbox(args, workdir: Path) -> tuple[subprocess.Popen, dict]:
    info_file = workdir / "sandbox.json"
    proc = subprocess.Popen([PY, "-m", "pipeline.sandbox", "--plays", str(args.plays), "--users", str(args.users),
                             "--days", str(args.days), "--info-file", str(info_file)]
                            + ([] if args.plex else ["--no-plex"]),
                            cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not info_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("sandbox failed to start")
        time.sleep(0.2)
    return proc, json.loads(info_file.read_text())


def floor(info: dict, page_size: int) -> dict:
    """Download every history page (gzip) and parse it: the cost any client pays."""
    session = requests.Session()
    session.headers["Accept-Encoding"] = "gzip"
    started, rows, start, transfer = time.monotonic(), 0, 0, 0.0
    parse = 0.0
    while True:
        t0 = time.monotonic()
        resp = session.get(f"{info['tautulli_url']}/api/v2", params={
            "apikey": info["tautulli_api_key"], "cmd": "get_history", "grouping": 0, "start": start,
            "length": page_size, "order_column": "date", "order_dir": "desc"}, timeout=600)
        body = resp.content
        t1 = time.monotonic()
        data = orjson.loads(body)["response"]["data"]
        t2 = time.monotonic()
        transfer, parse = transfer + (t1 - t0), parse + (t2 - t1)
        rows += len(data["data"])
        start += page_size
        if len(data["data"]) < page_size or rows >= data["recordsFiltered"]:
            break
    return {"rows": rows, "seconds": time.monotonic() - started, "transfer_seconds": transfer,
            "parse_seconds": parse}


def marquee_ingest(info: dict, data_dir: Path, page_size: int) -> dict:
    env = {**os.environ, "TAUTULLI_URL": info["tautulli_url"], "TAUTULLI_API_KEY": info["tautulli_api_key"],
           "MARQUEE_DATA_DIR": str(data_dir), "MARQUEE__TAUTULLI__PAGE_SIZE": str(page_size),
           "MARQUEE__SERVER__TIMEZONE": info["timezone"], "PYTHONPATH": str(ROOT)}
    env.pop("MARQUEE_CONFIG", None)
    env.pop("PLEX_URL", None)
    if "plex_url" in info:
        env.update(PLEX_URL=info["plex_url"], PLEX_TOKEN=info["plex_token"],
                   MARQUEE__PLEX__PLEXTV_URL=info["plextv_url"])
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    out = subprocess.run([PY, "-m", "invoke", "ingest"], cwd=data_dir, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if out.returncode != 0:
        raise SystemExit(f"ingest failed:\n{out.stderr[-2000:]}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest waited-for child so far; runs go biggest-first
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_rss_mb": peak_kb / 1024, "summary": out.stdout.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--page-size", type=int, default=20_000)
    parser.add_argument("--plex", action="store_true", help="also serve and ingest the Plex inventory")
    parser.add_argument("--repeat", type=int, default=3, help="alternate floor and full runs this many times")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="marquee-bench-") as tmp:
        work = Path(tmp)
        (work / "tasks.py").symlink_to(ROOT / "tasks.py")
        proc, info = start_sandbox(args, work)
        try:
            floors, fulls = [], []
            for i in range(args.repeat):  # alternated, so machine noise falls on both alike
                floors.append(floor(info, args.page_size))
                fulls.append(marquee_ingest(info, work / f"data{i}", args.page_size))
            again = [marquee_ingest(info, work / "data0", args.page_size) for _ in range(args.repeat)]
        finally:
            proc.terminate()
            proc.wait(30)
    base = sorted(floors, key=lambda r: r["seconds"])[len(floors) // 2]
    full = sorted(fulls, key=lambda r: r["seconds"])[len(fulls) // 2]
    full["peak_rss_mb"] = fulls[-1]["peak_rss_mb"]  # the largest child of all runs
    again = sorted(again, key=lambda r: r["seconds"])[len(again) // 2]
    result = {"plays": args.plays, "users": args.users, "page_size": args.page_size, "floor": base,
              "full": full, "no_change": again, "floor_runs": [r["seconds"] for r in floors],
              "full_runs": [r["seconds"] for r in fulls],
              "rows_per_second": info["plays"] / full["seconds"],
              "overhead_vs_floor": full["seconds"] / base["seconds"] - 1}
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ingest.json").write_text(json.dumps(result, indent=2))
    print(f"medians of {args.repeat} alternated runs; floor runs {result['floor_runs']}, full runs {result['full_runs']}")
    print(f"| plays | users | page | floor (download+parse) | full ingest | rows/s | Marquee's share over floor | peak RSS | no-change run |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.plays:,} | {args.users:,} | {args.page_size:,} | {base['seconds']:.1f} s | {full['seconds']:.1f} s "
          f"| {result['rows_per_second']:,.0f} | {result['overhead_vs_floor']:+.0%} | {full['peak_rss_mb']:,.0f} MB "
          f"| {again['seconds']:.2f} s |")


if __name__ == "__main__":
    main()
