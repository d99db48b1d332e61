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
sys.path.insert(0, str(ROOT))


def launch(argv: list[str], workdir: Path, wait_seconds: float = 600) -> tuple[subprocess.Popen, dict]:
    """Start a sandbox process (argv after the interpreter, without --info-file); wait for its info file."""
    info_file = workdir / "sandbox.json"
    proc = subprocess.Popen([PY, *argv, "--info-file", str(info_file)], cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + wait_seconds
    while not info_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("sandbox failed to start")
        time.sleep(0.2)
    return proc, json.loads(info_file.read_text())


def serve_world(world, info_file: Path, **extra) -> None:
    """Serve `world` as Tautulli, Plex and plex.tv; write their addresses (and `extra`) to info_file; stop at
    SIGTERM. For benches that shape the world before serving it (bench/enforce.py, bench/watch_state.py)."""
    import signal
    import threading

    from pipeline.sandbox.plex import PlexSandbox
    from pipeline.sandbox.plextv import PlexTvSandbox
    from pipeline.sandbox.tautulli import TautulliSandbox

    tautulli, plex = TautulliSandbox(world).start(), PlexSandbox(world).start()
    plextv = PlexTvSandbox(world, pms_url=plex.url).start()
    info = {"tautulli_url": tautulli.url, "tautulli_api_key": world.tautulli_api_key, "plex_url": plex.url,
            "plex_token": world.owner_token, "plextv_url": plextv.url, "now": world.now, "timezone": world.timezone,
            "plays": len(world.plays), "users": len(world.users), **extra}
    tmp = info_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(info_file)  # the launcher never reads half a file
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for server in (plextv, plex, tautulli):
        server.stop()


def start_sandbox(args, workdir: Path) -> tuple[subprocess.Popen, dict]:
    return launch(["-m", "pipeline.sandbox", "--plays", str(args.plays), "--users", str(args.users),
                   "--days", str(args.days), "--tautulli-cost", getattr(args, "tautulli_cost", "none")]
                  + ([] if args.plex else ["--no-plex"]), workdir)


def sandbox_settings(info: dict, work: Path):
    """Settings that read the sandbox's Tautulli, Plex and plex.tv, with data and output under `work`."""
    from pipeline.settings import load_settings

    return load_settings(environ={
        "TAUTULLI_URL": info["tautulli_url"], "TAUTULLI_API_KEY": info["tautulli_api_key"],
        "PLEX_URL": info["plex_url"], "PLEX_TOKEN": info["plex_token"],
        "MARQUEE__PLEX__PLEXTV_URL": info["plextv_url"], "MARQUEE_DATA_DIR": str(work / "data"),
        "MARQUEE__SERVER__TIMEZONE": info["timezone"], "MARQUEE__SITE__OUTPUT_DIR": str(work / "output"),
        "MARQUEE__SITE__POSTERS": "false"}, dotenv_path=None)


def floor(info: dict, page_size: int) -> dict:
    """Download every history window (gzip) and parse it: the cost any client pays, in Marquee's windows."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pipeline.ingest.history_windows import WindowPlan, history_windows

    session = requests.Session()
    session.headers["Accept-Encoding"] = "gzip"
    started, rows, transfer, parse = time.monotonic(), 0, 0.0, 0.0

    def call(cmd: str, **params) -> dict:
        nonlocal transfer, parse
        t0 = time.monotonic()
        body = session.get(f"{info['tautulli_url']}/api/v2", params={
            "apikey": info["tautulli_api_key"], "cmd": cmd, **params}, timeout=3600).content
        t1 = time.monotonic()
        data = orjson.loads(body)["response"]["data"]
        transfer, parse = transfer + (t1 - t0), parse + (time.monotonic() - t1)
        return data

    today = datetime.fromtimestamp(info["now"], ZoneInfo(info["timezone"])).date()
    query = {"grouping": 0, "include_activity": 0, "order_column": "date", "order_dir": "desc", "start": 0,
             "length": 2**31 - 1}
    for page, _ in history_windows(call, WindowPlan(page_size, today), query):
        rows += len(page)
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
    parser.add_argument("--tautulli-cost", choices=["none", "measured"], default="none",
                        help="measured: the sandbox answers get_history as slowly as a real Tautulli would")
    parser.add_argument("--plex", action="store_true", help="also serve and ingest the Plex inventory")
    parser.add_argument("--repeat", type=int, default=3, help="alternate floor and full runs this many times")
    real = parser.add_argument_group("real Tautulli (optional; see bench/real_tautulli.py)")
    real.add_argument("--real-tautulli", metavar="SOURCE", help="Tautulli v2.17.2's source folder, or auto (git clone)")
    real.add_argument("--rows", type=int, default=300_000, help="history rows to seed it with")
    real.add_argument("--tautulli-python", default="python3.11", help="the Python 3.11 that runs Tautulli")
    real.add_argument("--tautulli-data", type=Path, help="where seeded Tautulli data folders are kept"
                      " (default bench/results/)")
    real.add_argument("--tautulli-port", type=int, default=18181)
    real.add_argument("--later-runs-only", action="store_true",
                      help="only the no-change and incremental runs, on a copy of an earlier first run's store")
    real.add_argument("--strategies", nargs="*", default=["windows:10000", "windows:25000", "windows:50000"],
                      help="fetch strategies to time: windows:ROWS, pages:ROWS, pages:all (one request)")
    args = parser.parse_args()
    if args.real_tautulli:
        return real_bench(args)

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
    print("| plays | users | page | floor (download+parse) | full ingest | rows/s | Marquee's share over floor | peak RSS | no-change run |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.plays:,} | {args.users:,} | {args.page_size:,} | {base['seconds']:.1f} s | {full['seconds']:.1f} s "
          f"| {result['rows_per_second']:,.0f} | {result['overhead_vs_floor']:+.0%} | {full['peak_rss_mb']:,.0f} MB "
          f"| {again['seconds']:.2f} s |")


def real_bench(args) -> None:
    """Strategies and Marquee's runs against a real Tautulli; results in bench/results/ingest-real-ROWS.json."""
    sys.path.insert(0, str(ROOT))
    from bench.real_tautulli import bench

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    result = bench(args, ROOT, args.tautulli_data or out_dir)
    (out_dir / f"ingest-real-{args.rows}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
