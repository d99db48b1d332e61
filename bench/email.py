"""E-mail benchmark: one issue's digest rendered and wrapped in MIME for 10,000 personalized readers.

The issue is real: a sandbox world is served on loopback, ingested, frozen with compute_issue, its
posters fetched from the sandbox Plex and its chart rendered, as a run would. Its people are then
multiplied to --recipients readers, each with their own numbers and titles: most active, some
with no plays ("we missed you"), some with notices, some addresses that are not Plex users.

Per reader the figure is DigestRenderer.render() (Jinja on the compiled HTML, text part, MIME),
timed one by one: wall clock and this process's CPU time, since a shared 2-core machine is noisy.

    .venv/bin/python bench/email.py                      # 10,000 readers, inline and hosted images
    .venv/bin/python bench/email.py --recipients 1000    # a quick look
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/email.py: run as a script, its folder comes first on sys.path and would shadow
# the standard library's `email` package. Drop it before anything imports `email`.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from email import policy  # noqa: E402
from email.parser import BytesParser  # noqa: E402

from pipeline.clock import FixedClock  # noqa: E402
from pipeline.ingest.run import run_ingest  # noqa: E402
from pipeline.render.site.assets import issue_charts  # noqa: E402
from pipeline.render.email.notice import DigestRenderer, EmailImages  # noqa: E402
from pipeline.ingest.posters import cache_dir_for, fetch_posters  # noqa: E402
from pipeline.render.site.generate import poster_items  # noqa: E402
from pipeline.sandbox.plex import PlexSandbox  # noqa: E402
from pipeline.sandbox.plextv import PlexTvSandbox  # noqa: E402
from pipeline.sandbox.seed import DEFAULT_NOW, generate  # noqa: E402
from pipeline.sandbox.tautulli import TautulliSandbox  # noqa: E402
from pipeline.render.email.message import Recipient  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.stats.issue import compute_issue  # noqa: E402
from pipeline.stats.periods import latest_complete  # noqa: E402
from pipeline.store import open_store  # noqa: E402

NOW = datetime.fromtimestamp(DEFAULT_NOW, timezone.utc)


def build_issue(workdir: Path, users: int, plays: int) -> tuple[dict, EmailImages, float]:
    """A sandbox world ingested over loopback and frozen; (snapshot, images, seconds it took)."""
    began = time.perf_counter()
    world = generate(seed=7, users=users, plays=plays, days=60)
    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as plex, PlexTvSandbox(world) as plextv:
        settings = load_settings(environ={"TAUTULLI_API_KEY": world.tautulli_api_key,
                                          "PLEX_TOKEN": world.owner_token}, dotenv_path=None, overrides={
            "server.name": world.server_name, "server.timezone": world.timezone, "data.dir": str(workdir),
            "tautulli.url": tautulli.url, "plex.url": plex.url, "plex.plextv_url": plextv.url})
        with open_store(settings) as store:
            run_ingest(store, settings, FixedClock(NOW))
            period = latest_complete("weekly", NOW, world.timezone)
            snapshot = compute_issue(store, period, settings, NOW)
        posters = fetch_posters(poster_items([snapshot]), settings.plex, cache_dir_for(workdir))
    charts = issue_charts(snapshot, workdir / "charts")
    return snapshot, EmailImages(posters, charts), time.perf_counter() - began


def readers(snapshot: dict, count: int, seed: int = 1) -> list[tuple[Recipient, dict | None]]:
    """`count` readers: the issue's people, then clones of them with shuffled numbers and titles.

    About 10% have no plays this period, 5% are addresses that are not Plex users, and 5% carry
    notices (an inactivity warning and titles leaving soon).
    """
    rng = random.Random(seed)
    people = [u for u in snapshot["users"].values() if u["totals"]["plays"]] or list(snapshot["users"].values())
    titles = [t for u in people for t in u["top_titles"]] or [{"title": "Untitled", "hours": 1.0}]
    # the issue's own people first: they appear in the shared lists ("You"), which costs a little more
    out: list[tuple[Recipient, dict | None]] = [
        (Recipient(f"user{u['user_id']}@example.org", u["user_id"], u["friendly_name"]), None)
        for u in list(snapshot["users"].values())[:count]]
    for i in range(count - len(out)):
        uid = 1_000_000 + i
        roll = rng.random()
        if roll < 0.05:
            out.append((Recipient(f"friend{i}@example.net", None, f"Friend {i}", "extra"), None))
            continue
        user = copy.deepcopy(people[i % len(people)])
        user["user_id"] = uid
        if roll < 0.15:
            user["totals"]["plays"] = 0
        else:
            scale = rng.uniform(0.2, 3.0)
            user["totals"]["hours"] = round(user["totals"]["hours"] * scale, 1)
            picks = rng.sample(titles, min(5, len(titles)))
            user["top_titles"] = [dict(t, hours=round(rng.uniform(0.2, 9), 1)) for t in picks]
        snapshot["users"][str(uid)] = user
        extras = None
        if roll > 0.95:
            extras = {"inactivity": {"remove_on": "2026-12-15", "days_idle": 27},
                      "leaving_soon": {"items": [{"title": t["title"], "leaving_on": "2026-12-01"} for t in titles[:4]],
                                       "rule": "Titles nobody has played for a year leave; play one to keep it."}}
        out.append((Recipient(f"reader{i}@example.org", uid, f"Reader {i}"), extras))
    return out


def run(snapshot: dict, images: EmailImages, people: list, mode: str) -> dict:
    overrides = {"server.name": snapshot["server"]["name"], "server.timezone": snapshot["server"]["timezone"],
                 "email.from_address": "newsletter@example.org", "email.admin_email": "admin@example.org",
                 "email.unsubscribe_url": "https://example.org/unsubscribe",
                 "site.siteurl": "https://news.example.org", "email.images": mode}
    settings = load_settings(environ={}, dotenv_path=None, overrides=overrides)
    t0, c0 = time.perf_counter(), time.process_time()
    renderer = DigestRenderer(snapshot, settings, None, images, clock=FixedClock(NOW))
    setup = time.perf_counter() - t0, time.process_time() - c0
    wall, cpu, sizes, html = [], [], [], []
    began, began_cpu = time.perf_counter(), time.process_time()
    for recipient, extras in people:
        w, c = time.perf_counter(), time.process_time()
        message = renderer.render(recipient, extras)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
        sizes.append(message.size)
    total, total_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    sample = BytesParser(policy=policy.default).parsebytes(renderer.render(*people[len(people) // 2]).mime)
    html_size = len(sample.get_body(("html",)).get_content().encode())
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000  # noqa: E731
    return {"mode": mode, "recipients": len(people), "setup_s": setup[0], "setup_cpu_s": setup[1],
            "total_s": total, "total_cpu_s": total_cpu, "median_ms": statistics.median(wall) * 1000,
            "p95_ms": q(wall, 0.95), "max_ms": max(wall) * 1000, "cpu_median_ms": statistics.median(cpu) * 1000,
            "cpu_mean_ms": total_cpu / len(people) * 1000, "mime_kb": statistics.median(sizes) / 1024,
            "mime_max_kb": max(sizes) / 1024,
            "html_kb": html_size / 1024, "trim_level": renderer.level}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=40, help="people in the sandbox world")
    parser.add_argument("--plays", type=int, default=8000, help="plays in the sandbox world (60 days)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marquee-bench-email-") as tmp:
        snapshot, images, built = build_issue(Path(tmp), args.users, args.plays)
        people = readers(snapshot, args.recipients)
        results = [run(snapshot, images, people, mode) for mode in ("inline", "hosted")]
    print(f"\nIssue {snapshot['issue_key']}: {snapshot['totals']['plays']} plays, "
          f"{len(snapshot['added']['items'])} added rows, {len(images.posters)} posters; built in {built:.1f}s "
          f"(sandbox, ingest, stats, posters, chart)\n")
    print("| images | readers | setup | total wall | total CPU | per reader wall (median / p95 / max) "
          "| per reader CPU (median / mean) | HTML (one reader) | message (median / max) | trim level |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['mode']} | {r['recipients']:,} | {r['setup_s'] * 1000:.0f} ms | {r['total_s']:.1f} s "
              f"| {r['total_cpu_s']:.1f} s | {r['median_ms']:.2f} / {r['p95_ms']:.2f} / {r['max_ms']:.1f} ms "
              f"| {r['cpu_median_ms']:.2f} / {r['cpu_mean_ms']:.2f} ms | {r['html_kb']:.0f} KB "
              f"| {r['mime_kb']:.0f} / {r['mime_max_kb']:.0f} KB | {r['trim_level']} |")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "email.json").write_text(json.dumps({"args": vars(args), "results": results}, indent=1))


if __name__ == "__main__":
    main()
