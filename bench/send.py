"""Send benchmark: does Marquee hold a configured SES rate against moto, with the real ledger on disk?

moto does not enforce MaxSendRate, so the pacing measured here is Marquee's own. Each case gets a
fresh moto_server (its memory grows with every stored message) and a fresh DuckDB file, then sends
`rate * seconds` digests of about --kb KB through sesv2 send_email (Raw) and reports the rate held.
moto's own ceiling is about 80-90 msg/s on 2 cores, so a configured rate above that measures moto.

    python bench/send.py                       # rates 14, 40, 80 and unpaced, concurrency 4 and 8
    python bench/send.py --rates 14 --seconds 30 --concurrency 4 --repeat 3
    python bench/send.py --kills 100           # SIGKILL real send processes at random moments (issue 11, item 6)
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py sits next to this file: run as a script, this folder comes first on sys.path and
# would shadow the standard library's `email` package. Drop it before anything imports `email`.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from email.message import EmailMessage  # noqa: E402

import requests  # noqa: E402

from pipeline.render.email.message import OutgoingMessage, Recipient  # noqa: E402
from pipeline.send.run import send_messages  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.store import open_store  # noqa: E402

SENDER = "newsletter@marquee.test"
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}


def start_moto(log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    binary = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/moto-api/data.json", timeout=2).ok:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def digests(n: int, kb: int, key: str):
    """A lazy stream of ~kb KB multipart digests, built as the renderer would: one per recipient."""
    filler = "<p>" + "Movie night recap. " * 50 + "</p>"
    body = filler * max(1, (kb * 1024) // len(filler))
    for i in range(n):
        r = Recipient(email=f"viewer{i:05d}@viewers.test", user_id=i, name=f"Viewer {i}")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = f"Marquee <{SENDER}>", r.email, f"Your week ({key})"
        msg.set_content(f"Hi {r.name}\n")
        msg.add_alternative(f"<html><body><p>Hi {r.name}</p>{body}</body></html>", subtype="html")
        mime = msg.as_bytes()
        yield OutgoingMessage(recipient=r, kind="digest", key=key, subject=str(msg["Subject"]), mime=mime,
                              size=len(mime))


def one_case(rate: float, concurrency: int, n: int, kb: int, workdir: Path) -> dict:
    proc, url = start_moto(workdir / "moto.log")
    try:
        import boto3

        boto3.client("sesv2", endpoint_url=url, region_name="us-east-1").create_email_identity(
            EmailIdentity=SENDER)
        data = workdir / f"data-{rate}-{concurrency}-{time.monotonic_ns()}"
        settings = load_settings(environ={}, dotenv_path=None, overrides={
            "email.backend": "ses", "email.from_address": SENDER, "ses.endpoint_url": url,
            "ses.max_send_rate": rate, "ses.concurrency": concurrency, "data.dir": str(data)})
        calls: list[float] = []

        def on_event(name: str, count: int) -> None:
            if name == "called":
                calls.append(time.monotonic())

        with open_store(settings) as store:
            summary = send_messages(store, settings, digests(n, kb, "bench-1"), apply=True, on_event=on_event)
        stored = len(requests.get(f"{url}/moto-api/data.json", timeout=120).json()["ses"]["RawMessage"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # Steady state: from the first call to the last, leaving out start-up (boto3 clients, the sender
    # check, the suppression list). End to end includes it.
    achieved = (len(calls) - 1) / (calls[-1] - calls[0])
    return {"rate": rate, "concurrency": concurrency, "messages": n, "sent": summary.sent, "in_moto": stored,
            "seconds": round(summary.seconds, 2), "achieved": round(achieved, 1),
            "end_to_end": round(summary.sent / summary.seconds, 1),
            "held": round(achieved / rate, 3) if rate < 1000 else None}


def floor_case(concurrency: int, n: int, kb: int, workdir: Path) -> dict:
    """The same messages built and sent by plain boto3 threads, no pacing, no ledger: the ceiling here."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    proc, url = start_moto(workdir / "moto.log")
    try:
        client = boto3.client("sesv2", endpoint_url=url, region_name="us-east-1",
                              config=Config(max_pool_connections=concurrency * 2))
        client.create_email_identity(EmailIdentity=SENDER)
        started = time.monotonic()  # building the messages counts, as rendering would in a run
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda m: client.send_email(
                FromEmailAddress=SENDER, Destination={"ToAddresses": [m.recipient.email]},
                Content={"Raw": {"Data": m.mime}}), digests(n, kb, "floor")))
        seconds = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"rate": None, "concurrency": concurrency, "messages": n, "seconds": round(seconds, 2),
            "achieved": round(n / seconds, 1)}


def kills_case(kills: int, rate: float, concurrency: int, workdir: Path) -> dict:
    """tests/fixtures/send_kills.py's randomized kills against a fresh moto: duplicates and unknowns left."""
    import boto3

    from tests.fixtures.outgoing import SENDER as CHILD_SENDER
    from tests.fixtures.send_kills import random_kills

    proc, url = start_moto(workdir / "moto.log")
    try:
        boto3.client("sesv2", endpoint_url=url, region_name="us-east-1").create_email_identity(
            EmailIdentity=CHILD_SENDER)
        data = workdir / f"kills-{time.monotonic_ns()}"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), **FAKE_AWS,
               "MARQUEE_DATA_DIR": str(data), "MARQUEE__EMAIL__BACKEND": "ses",
               "MARQUEE__EMAIL__FROM_ADDRESS": CHILD_SENDER, "MARQUEE__SES__ENDPOINT_URL": url}
        report = random_kills(env, data, url, kills, rate=rate, concurrency=concurrency)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"kills": report.kills, "messages": report.messages, "duplicates": report.duplicates,
            "unknown": report.unknown, "unknown_delivered": report.unknown_delivered, "unsent": report.unsent,
            "missed_runs": report.missed_runs, "rate": rate, "concurrency": concurrency, "line": report.line()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[14, 40, 80, 10_000],
                        help="configured ses.max_send_rate values; 10000 means unpaced (moto's ceiling)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--seconds", type=float, default=15, help="messages per case = rate * seconds")
    parser.add_argument("--max-messages", type=int, default=1500)
    parser.add_argument("--kb", type=int, default=30, help="size of each digest")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--floor", action="store_true", help="also time plain boto3 threads (moto's ceiling)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kills", type=int, default=0,
                        help="instead: SIGKILL this many send processes at random moments (at the first --rates "
                             "value, default 40/s, and the first --concurrency)")
    args = parser.parse_args()
    os.environ.update(FAKE_AWS)
    if args.kills:
        rate = args.rates[0] if args.rates != parser.get_default("rates") else 40.0
        with tempfile.TemporaryDirectory(prefix="marquee-bench-kills-") as tmp:
            row = kills_case(args.kills, rate, args.concurrency[0], Path(tmp))
        print(json.dumps(row, indent=2) if args.json else row["line"])
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="marquee-bench-send-") as tmp:
        for concurrency in args.concurrency:
            if args.floor:
                floor = floor_case(concurrency, min(args.max_messages, 400), args.kb, Path(tmp))
                rows.append(floor)
                if not args.json:
                    print(f"floor: plain boto3, {concurrency} threads, no pacing or ledger: "
                          f"{floor['achieved']:.1f} msg/s", flush=True)
            for rate in args.rates:
                n = int(min(args.max_messages, rate * args.seconds))
                runs = [one_case(rate, concurrency, n, args.kb, Path(tmp)) for _ in range(args.repeat)]
                best = sorted(runs, key=lambda r: r["achieved"])[len(runs) // 2]  # the median run
                best["achieved_runs"] = [r["achieved"] for r in runs]
                rows.append(best)
                if not args.json:
                    held = f"{best['held']:.0%}" if best["held"] is not None else "unpaced"
                    print(f"rate {rate:>7g}/s  concurrency {concurrency}  {n:>5} msgs  "
                          f"held {best['achieved']:>6.1f}/s ({held}; runs {best['achieved_runs']})  "
                          f"end to end {best['end_to_end']:.1f}/s  moto stored {best['in_moto']}", flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        paced = [r["held"] for r in rows if r.get("held") is not None]
        if paced:
            print(f"held the configured rate: median {statistics.median(paced):.0%}, worst {min(paced):.0%}")


if __name__ == "__main__":
    main()
