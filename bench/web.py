"""Reader-actions benchmark (issue 12): action POSTs per second and their latency while a run holds the store, and
how fast a run takes the inbox in.

Three processes: the web app (`invoke web`'s uvicorn config) pinned to core 0; a store holder pinned to core 1 that
opens the DuckDB store under the writer lock, as `build` does, and runs heavy SQL on it for the whole
measurement (the web app must not care); and this script, the load, on core 1 too. The load is open-loop:
requests are due at a fixed rate and each latency runs from when it was due to the last byte of the answer, so a
stalled server shows as latency, not as a lower rate. Half the POSTs are RFC 8058 one-click unsubscribes, half are
"Keep" form POSTs with their CSRF field; every one is a new action appended to the inbox (on disk before the
answer). Each comes from its own client address (X-Forwarded-For from the trusted loopback proxy), so the
per-address limit stays at its default. Then fresh file stores take in an inbox of --inbox actions, --inbox-runs times.

    python bench/web.py                       # 500/s for 20 s, then a 200,000-action inbox
    python bench/web.py --rate 800 --seconds 10 --inbox 50000
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/email.py shadows email
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

PUBLIC = "https://marquee.example.org"
SECRET = "bench-secret-bench-secret-bench"


def settings_for(data: Path, port: int = 0, fsync: bool = True):
    from pipeline.settings import load_settings

    return load_settings(environ={"MARQUEE_SECRET_KEY": SECRET}, dotenv_path=None, overrides={
        "data.dir": str(data), "web.public_url": PUBLIC, "web.port": port, "web.per_link_per_minute": 10,
        "web.inbox_fsync": fsync})


def serve(data: Path, port: int, fsync: bool) -> None:
    """Child: the app on one core."""
    os.sched_setaffinity(0, {0})
    from pipeline.run.web import serve_web

    serve_web(settings_for(data, port, fsync))


def hold_store(data: Path, seconds: float) -> None:
    """Child: hold the store's writer lock and keep DuckDB busy, as a long build does."""
    os.sched_setaffinity(0, {os.cpu_count() - 1})
    from pipeline.store import open_store

    with open_store(settings_for(data)) as store:
        print("holding", flush=True)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            store.con.execute("SELECT sum(hash(i) % 97) FROM range(20000000) t(i)").fetchall()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests_for(n: int) -> list[bytes]:
    """n raw HTTP/1.1 POSTs, each a new action: one-click unsubscribes and Keep form posts, alternately."""
    from itsdangerous import TimestampSigner

    from pipeline.tokens import Signer

    signer, csrf = Signer(SECRET.encode()), TimestampSigner(SECRET.encode(), salt="marquee-csrf-v1")
    expires = datetime.now(timezone.utc) + timedelta(days=1)
    out = []
    for i in range(n):
        reader = 1_000_000 + i
        ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
        if i % 2:
            token = signer.token(reader, "unsubscribe", f"r{i}@example.org", expires, f"r{i}@example.org")
            body = b"List-Unsubscribe=One-Click"
        else:
            token = signer.token(reader, "keep", str(i), expires, f"Title {i}")
            field = csrf.sign(hashlib.sha256(token.encode()).hexdigest()[:32]).decode()
            body = f"csrf={field}".encode()
        head = (f"POST /a/{reader}/{token} HTTP/1.1\r\nHost: marquee.example.org\r\nX-Forwarded-For: {ip}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n")
        out.append(head.encode() + body)
    return out


async def read_answer(reader: asyncio.StreamReader) -> int:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def load(port: int, payloads: list[bytes], rate: float, connections: int) -> tuple[list[float], dict]:
    """Send payloads at `rate`/s over keep-alive connections; (latencies from due time, status counts)."""
    queue: asyncio.Queue = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (job := await queue.get()) is not None:
            due, payload = job
            writer.write(payload)
            status = await read_answer(reader)
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    start = time.perf_counter() + 0.2
    for i, payload in enumerate(payloads):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, payload))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return latencies, statuses


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def bench_inbox(n: int, tmp: Path, run: int = 0) -> dict:
    """A fresh file store takes in an inbox of n actions (half keeps, half unsubscribes): actions per second."""
    import sqlite3

    from pipeline.ingest.inbox import take_inbox
    from pipeline.store import open_store
    from pipeline.web.inbox import INBOX_FILE, connect

    data = tmp / f"inbox-bench-{run}"
    settings = settings_for(data)
    con = connect(data / INBOX_FILE)
    at = datetime.now(timezone.utc).isoformat()
    con.execute("BEGIN")
    con.executemany("INSERT INTO actions (acted_at, reader, action, target) VALUES (?, ?, ?, ?)",
                    ((at, 1_000_000 + i, "keep" if i % 2 == 0 else "unsubscribe",
                      str(i) if i % 2 == 0 else f"r{i}@example.org") for i in range(n)))
    con.execute("COMMIT")
    con.close()
    assert sqlite3.connect(data / INBOX_FILE).execute("SELECT count(*) FROM actions").fetchone()[0] == n
    import pandas  # noqa: F401  (DuckDB imports it on the first Arrow registration; a real run has it already)

    with open_store(settings) as store:
        began = time.perf_counter()
        taken = take_inbox(store, settings, datetime.now(timezone.utc))
        seconds = time.perf_counter() - began
        again = time.perf_counter()
        take_inbox(store, settings, datetime.now(timezone.utc))  # nothing new: the every-run cost
        idle = time.perf_counter() - again
    return {"actions": taken, "seconds": round(seconds, 3), "per_second": round(taken / seconds),
            "nothing_new_ms": round(idle * 1000, 1), "busy": busy()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--inbox", type=int, default=200_000)
    parser.add_argument("--inbox-runs", type=int, default=3, help="take-ins, each into a fresh store")
    parser.add_argument("--no-fsync", action="store_true", help="web.inbox_fsync = false (survives a killed app only)")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--hold", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(Path(args.serve[0]), int(args.serve[1]), not os.environ.get("BENCH_NO_FSYNC"))
    if args.hold:
        return hold_store(Path(args.hold[0]), float(args.hold[1]))

    tmp = Path(tempfile.mkdtemp(prefix="marquee-web-bench-"))
    data, port = tmp / "data", free_port()
    n = int(args.rate * args.seconds)
    payloads = requests_for(n)
    before = busy()
    holder = subprocess.Popen([sys.executable, __file__, "--hold", str(data), str(args.seconds + 30)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert holder.stdout.readline().strip() == "holding"
    env = {**os.environ, **({"BENCH_NO_FSYNC": "1"} if args.no_fsync else {})}
    app = subprocess.Popen([sys.executable, __file__, "--serve", str(data), str(port)], cwd=ROOT, env=env)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        os.sched_setaffinity(0, {os.cpu_count() - 1})
        cpu = cpu_seconds(app.pid)
        began = time.perf_counter()
        latencies, statuses = asyncio.run(load(port, payloads, args.rate, args.connections))
        elapsed = time.perf_counter() - began
        cpu = cpu_seconds(app.pid) - cpu
        during = busy()
        assert holder.poll() is None, "the store holder ended before the load did"
    finally:
        app.terminate()
        app.wait(10)
        holder.kill()
        holder.wait(10)
    import sqlite3

    stored = sqlite3.connect(data / "inbox.sqlite").execute("SELECT count(*) FROM actions").fetchone()[0]
    web = {"rate": args.rate, "requests": n, "elapsed_s": round(elapsed, 2), "achieved_per_s": round(n / elapsed),
           "statuses": statuses, "in_inbox": stored, "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
           "p99_ms": round(percentile(latencies, 0.99) * 1000, 1), "max_ms": round(max(latencies) * 1000, 1),
           "app_cpu_ms_per_action": round(cpu * 1000 / n, 2), "fsync": not args.no_fsync, "busy_before": before,
           "busy_during": during}
    inboxes = [bench_inbox(args.inbox, tmp, run) for run in range(args.inbox_runs)]
    inbox = min(inboxes, key=lambda r: r["per_second"])
    shutil.rmtree(tmp, ignore_errors=True)
    print("| offered | inbox fsync | answered/s | p50 | p99 | max | app CPU per action | statuses | in the inbox "
          "| machine |")
    print("|---:|---|---:|---:|---:|---:|---:|---|---:|---|")
    print(f"| {web['rate']:g}/s × {args.seconds:g} s | {'on' if web['fsync'] else 'off'} | {web['achieved_per_s']} | "
          f"{web['p50_ms']} ms | "
          f"{web['p99_ms']} ms | {web['max_ms']} ms | {web['app_cpu_ms_per_action']} ms | {statuses} | {stored:,} | "
          f"{during} |")
    print()
    print("| inbox actions taken in | seconds | actions/s | a run with nothing new | machine |")
    print("|---:|---:|---:|---:|---|")
    for r in inboxes:
        print(f"| {r['actions']:,} | {r['seconds']} | {r['per_second']:,} | {r['nothing_new_ms']} ms | {r['busy']} |")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "web.json").write_text(json.dumps({"web": web, "inbox": inbox, "inbox_runs": inboxes}, indent=2))


if __name__ == "__main__":
    main()
