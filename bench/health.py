"""Health endpoint benchmark: latency of GET /health when many probes arrive at once (issue 11, item 10).

The daemon's HealthServer runs in its own process (`--serve`), as it does next to a daemon. Each round,
--concurrency threads wait on a barrier, then each opens its own connection and GETs /health; a request's
latency runs from the barrier to the last byte of the answer. Reports p50, p99 and max over all rounds, and
how many requests failed. With --idle N, N connections that never send a byte are opened first and held.

    python bench/health.py                         # 200 at once, 20 rounds
    python bench/health.py --concurrency 50 --rounds 5 --idle 20
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py would shadow the standard library's email package for scripts run from bench/.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from datetime import timedelta  # noqa: E402


def serve() -> None:
    """The child: a HealthServer on a free loopback port; print its URL, then wait for stdin to close."""
    from pipeline.clock import SystemClock
    from pipeline.run.health import Health, HealthServer

    health = Health(SystemClock(), window=timedelta(hours=1), starting=timedelta(hours=1))
    server = HealthServer(health, "127.0.0.1", 0).start()
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


def one_round(url: str, concurrency: int, timeout: float) -> tuple[list[float], int]:
    """(latencies in seconds of the answered requests, failures) for `concurrency` requests released at once."""
    barrier = threading.Barrier(concurrency + 1)
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def probe() -> None:
        barrier.wait()
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:
                answer.read()
        except OSError:
            with lock:
                failures[0] += 1
            return
        with lock:
            latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=probe) for _ in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    for t in threads:
        t.join()
    return latencies, failures[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--idle", type=int, default=0, help="connections that never send, held open throughout")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per request, seconds")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, cwd=ROOT)
    try:
        url = child.stdout.readline().strip()
        host, port = url.split("//")[1].split("/")[0].rsplit(":", 1)
        idle = [socket.create_connection((host, int(port))) for _ in range(args.idle)]
        latencies: list[float] = []
        failures = 0
        for _ in range(args.rounds):
            got, failed = one_round(url, args.concurrency, args.timeout)
            latencies += got
            failures += failed
        for sock in idle:
            sock.close()
    finally:
        child.stdin.close()
        child.wait(10)
    result = {"concurrency": args.concurrency, "rounds": args.rounds, "idle": args.idle,
              "requests": args.concurrency * args.rounds, "failed": failures,
              "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
              "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
              "max_ms": round(max(latencies) * 1000, 1) if latencies else None}
    print("| concurrency | idle connections | requests | failed | p50 | p99 | max |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {result['concurrency']} | {result['idle']} | {result['requests']:,} | {result['failed']} | "
          f"{result['p50_ms']} ms | {result['p99_ms']} ms | {result['max_ms']} ms |")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "health.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
