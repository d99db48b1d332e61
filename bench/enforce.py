"""Enforcement benchmark: the user policy, the retention queue and a whole dry run at the issues' scale.

The sandbox Tautulli, Plex and plex.tv run in their own process (`--serve`) over one world whose items carry
`marquee:<username>` labels. The store is filled once with `invoke ingest`'s code over loopback HTTP, plus
`invoke assign` rows and a retention.toml ([[assign]] entries and one [[rule]]). Every measured run is a fresh
process (`--child`) on that file store, so its wall time and peak RSS (ru_maxrss) are its own. In the child,
the steps are wrapped with a timer (and Store.execute/records per SQL file) to show where the time goes;
nothing else changes. Dry runs alternate the scopes and `invoke queue` --repeat times; medians are reported.
Last, applied users runs against the sandbox warn, then four days later remove, the cap's five users.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/email.py would shadow the standard library's email package for scripts run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import logging
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable

from bench.ingest import launch, serve_world  # noqa: E402
SCOPES = ("users", "new_users", "media", "all", "queue")  # "queue" is `invoke queue` (queue_lines)
SHARES = (("label", 0.5), ("cli", 1 / 3), ("file", 1 / 6))  # how the assignments are made, by count
RULE = """
[[rule]]
name = "movies nobody watches"
library = "Movies"
media_type = "movie"
added_before_days = 365
not_played_by_anyone_days = 180
exclude_collections = ["Criterion"]
"""
FIRST_RUN_DAYS = 7
# Targets, from how the daemon runs enforce: "all" every 30 minutes, "new_users" every 5 (plus its ingest).
TARGETS = {"users": 15, "new_users": 5, "media": 20, "all": 30, "queue": 10, "rss_mb": 1024, "removal": 2}


# -- the sandbox process ------------------------------------------------------------------------------------------

def serve(args) -> None:
    """Generate the world, label items for their assignees, serve Tautulli, Plex and plex.tv until SIGTERM."""
    from pipeline.sandbox.seed import generate

    world = generate(seed=1, users=args.users, plays=args.plays, days=args.days)
    plan = assignments(world, args.assignments)
    serve_world(world, args.info_file, **plan)


def assignments(world, total: int) -> dict:
    """`total` (item, user) pairs, a third of them shows, mostly titles the user played (so many are watched).

    Half become Plex labels on the world's items, a third `invoke assign` rows, the rest retention.toml entries.
    """
    import numpy as np

    rng = np.random.default_rng([world.seed, 7])
    viewers = {u.user_id: u.username for u in world.users if u.note == "" and u.username}
    ids = np.array(sorted(viewers), dtype=np.int64)
    target = np.zeros(max(world.items) + 1, dtype=np.int64)  # leaf -> what is assigned (the movie, the show)
    for rk, item in world.items.items():
        target[rk] = rk if item.type == "movie" else item.grandparent_rating_key if item.type == "episode" else 0
    cols = world.plays.cols
    keep = np.isin(cols["user_id"], ids) & (target[cols["rating_key"]] > 0)
    played = np.unique(cols["user_id"][keep] * (1 << 32) + target[cols["rating_key"][keep]])
    movie = np.zeros(len(target), dtype=bool)
    movie[[rk for rk, i in world.items.items() if i.type == "movie"]] = True
    is_movie = movie[played % (1 << 32)]
    pairs: set[tuple[int, int]] = set()  # (rating key, user id)
    for kind, count, mask in (("movie", total - total // 3, is_movie), ("show", total // 3, ~is_movie)):
        pool = played[mask]
        keys = np.array(sorted(rk for rk, i in world.items.items() if i.type == kind), dtype=np.int64)
        n_played = min(len(pool), int(count * 0.7))  # the rest: assigned, never played, so they stay
        mine = {(code % (1 << 32), code >> 32) for code in rng.choice(pool, n_played, replace=False).tolist()}
        while len(mine) < count:
            mine.add((int(rng.choice(keys)), int(rng.choice(ids))))
        pairs |= mine
    order = sorted(pairs)
    chosen = [order[i] for i in rng.permutation(len(order))]
    n_label, n_cli = round(total * SHARES[0][1]), round(total * SHARES[1][1])
    for rk, uid in chosen[:n_label]:
        world.items[rk].labels = world.items[rk].labels + (f"marquee:{viewers[uid]}",)
    names = defaultdict(list)
    for item in world.items.values():
        if item.type in ("movie", "show"):
            names[(item.title.casefold(), item.year)].append(item.rating_key)
    by_item = defaultdict(list)
    for rk, uid in sorted(chosen[n_label + n_cli:]):
        by_item[rk].append(viewers[uid])
    entries = []
    for rk, users in by_item.items():
        item = world.items[rk]
        unique = len(names[(item.title.casefold(), item.year)]) == 1 and item.year
        entries.append({"title": f"{item.title} ({item.year})", "users": users} if unique
                       else {"rating_key": rk, "users": users})
    return {"label_pairs": n_label, "cli_pairs": chosen[n_label:n_label + n_cli], "file_entries": entries,
            "file_pairs": len(chosen) - n_label - n_cli,
            "movie_pairs": sum(1 for rk, _ in chosen if world.items[rk].type == "movie"),
            "show_pairs": sum(1 for rk, _ in chosen if world.items[rk].type == "show")}


# -- one measured run, in its own process -------------------------------------------------------------------------

class Timers:
    """Wall time per wrapped function (nested ones overlap) and per SQL file, with call counts."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.each: dict[str, list[float]] = defaultdict(list)
        self.audit_rows = 0

    def add(self, key: str, seconds: float) -> None:
        self.seconds[key] += seconds
        self.calls[key] += 1
        self.each[key].append(seconds)

    def wrap(self, owner, name: str, key: str) -> None:
        fn = getattr(owner, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(key, time.perf_counter() - t0)
        setattr(owner, name, timed)

    def install(self) -> None:
        import pipeline.store.audit as audit
        import pipeline.act.media as media
        import pipeline.notices.admin as notify
        import pipeline.notices.users as notices
        import pipeline.act.plex_users as plex_users
        import pipeline.act.users as users
        import pipeline.run.enforce as enforce
        import pipeline.media as retention
        import pipeline.media.assignments as assignments
        import pipeline.media.queue as queue
        import pipeline.media.report as report
        from pipeline.store.db import Store

        for method in ("execute", "records", "df"):
            original = getattr(Store, method)

            def by_name(store, name, params=None, _original=original):
                t0 = time.perf_counter()
                try:
                    return _original(store, name, params)
                finally:
                    self.add(f"sql {name}", time.perf_counter() - t0)
            setattr(Store, method, by_name)
        write = audit.Audit.write

        def counted(audit_self, rows):
            rows = list(rows)
            self.audit_rows += len(rows)
            return write(audit_self, rows)
        audit.Audit.write = counted
        for owner, name, key in (
                (enforce, "decide", "users: decide (SQL + policy)"), (enforce, "decide_users", "users: policy"),
                (users, "preview_users", "users: dry-run e-mails"),
                (notices.UserNotices, "_render", "users: render e-mails"),
                (notices, "send_messages", "users: send_messages (SMTP)"), (users, "act_users", "users: act"),
                (users, "_warn", "users: warn"), (users, "_remove", "users: one removal"),
                (notices.UserNotices, "removal", "users: removal notice"),
                (plex_users.PlexAccess, "unshare", "plex.tv unshare"),
                (plex_users.PlexAccess, "connect", "plex connect"),
                (queue, "refresh", "media: refresh_queue"), (report, "refresh", "media: refresh_queue"),
                (queue, "sync_assignments", "media: sync assignments"),
                (assignments, "file_pairs", "media: retention.toml assignments"),
                (assignments, "label_pairs", "media: label assignments"),
                (queue, "media_inputs", "media: read inputs"), (retention, "media_inputs", "media: read inputs again"),
                (queue, "compute_queue", "media: policy queue"), (queue, "save_queue", "media: save queue"),
                (media, "due", "media: policy due"), (media, "_audit_queue_changes", "media: audit queue changes"),
                (media, "_dry_run", "media: dry-run list"), (audit.Audit, "write", "audit writes"),
                (notify.Notifier, "flush", "admin notice")):
            self.wrap(owner, name, key)


def child(spec: dict) -> None:
    """Open the store, run one enforce (or queue_lines), print what it cost as one JSON line."""
    logging.basicConfig(level=logging.WARNING)
    timers = Timers()
    timers.install()
    from pipeline.clock import FixedClock
    from pipeline.run.enforce import run_enforce
    from pipeline.media.commands import queue_lines
    from pipeline.settings import load_settings
    from pipeline.store import open_store

    settings = load_settings(environ=spec["environ"], dotenv_path=None, overrides=spec["overrides"])
    clock = FixedClock(datetime.fromtimestamp(spec["now"], timezone.utc))
    events: list[tuple[str, int]] = []
    t0 = time.perf_counter()
    with open_store(settings) as store:
        opened = time.perf_counter() - t0
        t1 = time.perf_counter()
        if spec["scope"] == "queue":
            lines, refusals, failures, run_id = queue_lines(store, settings, clock), [], 0, None
        else:
            result = run_enforce(store, settings, clock, apply=spec["apply"], scope=spec["scope"],
                                 on_event=lambda name, uid: events.append((name, uid)))
            lines, refusals, failures, run_id = result.lines, result.refusals, result.failures, result.run_id
        seconds = time.perf_counter() - t1
        queued = store.con.execute("SELECT count(*), count(*) FILTER (WHERE scheduled_at <= ?) FROM media_queue",
                                   [clock.now()]).fetchall()[0]
    out = {"scope": spec["scope"], "apply": spec["apply"], "seconds": seconds, "open_seconds": opened,
           "lines": len(lines), "refusals": refusals, "failures": failures, "run_id": run_id,
           "audit_rows": timers.audit_rows, "queued": queued[0], "due": queued[1],
           "events": sorted({name for name, _ in events}), "removed": sum(1 for n, _ in events if n == "removed"),
           "timers": dict(timers.seconds), "calls": dict(timers.calls), "each": dict(timers.each),
           "peak_rss_mb": peak_rss_mb()}
    print(json.dumps(out))


def peak_rss_mb() -> float:
    """This process's peak RSS since exec: VmHWM (ru_maxrss would carry the big parent's over from the fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(spec: dict) -> dict:
    started = time.monotonic()
    done = subprocess.run([PY, __file__, "--child", json.dumps(spec, default=str)], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"{spec['scope']} run failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_seconds"] = time.monotonic() - started
    out["db_mb"] = Path(spec["overrides"]["data.dir"], "marquee.duckdb").stat().st_size / 1e6
    return out


# -- the driver ---------------------------------------------------------------------------------------------------

def start(args, work: Path) -> tuple[subprocess.Popen, dict]:
    # this file serves the sandbox itself (--serve), so its world carries the assignments
    return launch([__file__, "--serve", "--plays", str(args.plays), "--users", str(args.users),
                   "--days", str(args.days), "--assignments", str(args.assignments)], work)


def spec_for(info: dict, work: Path, data: Path, scope: str, *, now: int, apply: bool = False, **extra) -> dict:
    environ = {"TAUTULLI_URL": info["tautulli_url"], "TAUTULLI_API_KEY": info["tautulli_api_key"],
               "PLEX_URL": info["plex_url"], "PLEX_TOKEN": info["plex_token"]}
    overrides = {"plex.plextv_url": info["plextv_url"], "server.timezone": info["timezone"], "data.dir": str(data),
                 "email.backend": "outbox", "email.from_address": "news@example.org",
                 "email.admin_email": "admin@example.org", "email.outbox_dir": str(data / "outbox"),
                 "retention.file": str(work / "retention.toml"), "tautulli.retries": 0, **extra}
    return {"environ": environ, "overrides": overrides, "scope": scope, "now": now, "apply": apply}


def setup(info: dict, work: Path, data: Path) -> dict:
    """Ingest over HTTP, add the `invoke assign` rows, write retention.toml; what the store then holds."""
    from pipeline.clock import FixedClock
    from pipeline.ingest.run import run_ingest
    from pipeline.media.assignments import write_pairs
    from pipeline.settings import load_settings
    from pipeline.store import open_store

    spec = spec_for(info, work, data, "all", now=info["now"])
    settings = load_settings(environ=spec["environ"], dotenv_path=None, overrides=spec["overrides"])
    clock = FixedClock(datetime.fromtimestamp(info["now"], timezone.utc))
    toml = []
    for entry in info["file_entries"]:
        what = (f"title = {json.dumps(entry['title'], ensure_ascii=False)}" if "title" in entry
                else f"rating_key = {entry['rating_key']}")
        toml.append(f"[[assign]]\n{what}\nusers = {json.dumps(entry['users'], ensure_ascii=False)}\n")
    (work / "retention.toml").write_text("\n".join(toml) + RULE, encoding="utf-8")
    with open_store(settings) as store:
        t0 = time.monotonic()
        run_ingest(store, settings, clock)
        ingest_s = time.monotonic() - t0
        with store.transaction():
            write_pairs(store, "cli", [tuple(p) for p in info["cli_pairs"]], clock.now(), replace=False)
        counts = store.con.execute("SELECT (SELECT count(*) FROM plays), (SELECT count(*) FROM users WHERE "
                                   "has_access), (SELECT count(*) FROM plex_items WHERE type IN ('movie', 'episode'))"
                                   ).fetchall()[0]
    return {"ingest_seconds": ingest_s, "plays": counts[0], "members": counts[1], "movies_and_episodes": counts[2]}


def removal_groups(info: dict, work: Path, data: Path, groups: int) -> tuple[list[list[int]], list[int]]:
    """Groups of five users the policy warns today (with an e-mail, longest idle first), and every member."""
    from pipeline.run.enforce import decide
    from pipeline.settings import load_settings
    from pipeline.store import open_store

    spec = spec_for(info, work, data, "users", now=info["now"])
    settings = load_settings(environ=spec["environ"], dotenv_path=None, overrides=spec["overrides"])
    with open_store(settings) as store:
        d = decide(store, settings, datetime.fromtimestamp(info["now"], timezone.utc))
    warned = sorted((a for a in d.plan.of_kind("warn") if d.members[a.user_id].email),
                    key=lambda a: (a.inputs["idle_since"], a.user_id))
    ids = [a.user_id for a in warned]
    return [ids[i * 5:i * 5 + 5] for i in range(groups) if len(ids) >= i * 5 + 5], sorted(d.members)


class _Sink:
    """Accepts every message over SMTP on loopback: applied runs need real delivery (the outbox refuses --apply)."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received += 1
        return "250 OK"


def smtp_sink() -> tuple[object, _Sink, dict]:
    """(controller, handler, settings) of a started loopback SMTP sink; stop the controller when done."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = _Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler, {"email.backend": "smtp", "smtp.host": "127.0.0.1", "smtp.port": port,
                                 "smtp.security": "none"}


def apply_runs(info: dict, work: Path, base: Path, groups: list[list[int]], members: list[int]) -> list[dict]:
    """Per group: a copy of the store; day 0 warns the group (everyone else is a VIP), day 4 removes it."""
    controller, sink, smtp = smtp_sink()
    try:
        return _apply_runs(info, work, base, groups, members, smtp, sink)
    finally:
        controller.stop()


def _apply_runs(info: dict, work: Path, base: Path, groups: list[list[int]], members: list[int], smtp: dict,
                sink: _Sink) -> list[dict]:
    out = []
    for n, group in enumerate(groups):
        data = work / f"apply{n}"
        data.mkdir()
        shutil.copy(base, data / "marquee.duckdb")
        vip = [str(uid) for uid in members if uid not in group]
        # No ingest between the two days: the guards' data age and quiet days allow four days.
        extra = {"users.vip": vip, "users.max_data_age_hours": 120, "users.quiet_days": 10, **smtp}
        before = sink.received
        warn = measure(spec_for(info, work, data, "users", now=info["now"], apply=True, **extra))
        remove = measure(spec_for(info, work, data, "users", now=info["now"] + 4 * 86_400, apply=True, **extra))
        out.append({"warn": warn, "remove": remove, "emails_delivered": sink.received - before})
    return out


def median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--assignments", type=int, default=None, help="default: 1.5 per user (3,000 at 2,000)")
    parser.add_argument("--repeat", type=int, default=3, help="alternate the dry-run scopes this many times")
    parser.add_argument("--no-apply", action="store_true", help="skip the applied warn and removal runs")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--info-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))
    args.assignments = args.assignments if args.assignments is not None else round(args.users * 1.5)
    if args.serve:
        return serve(args)

    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="marquee-bench-enforce-") as tmp:
        work = Path(tmp)
        proc, info = start(args, work)
        try:
            data = work / "data"
            world = setup(info, work, data)
            base = work / "base.duckdb"
            shutil.copy(data / "marquee.duckdb", base)  # closed, so the file is whole
            runs: dict[str, list[dict]] = defaultdict(list)
            # The first run ever, a week earlier: what it queues then is due now, as on a server enforcing for a while.
            first = measure(spec_for(info, work, data, "all", now=info["now"] - FIRST_RUN_DAYS * 86_400))
            for _ in range(args.repeat):  # alternated, so machine noise falls on every scope alike
                for scope in SCOPES:
                    runs[scope].append(measure(spec_for(info, work, data, scope, now=info["now"])))
            applied = []
            if not args.no_apply:
                groups, members = removal_groups(info, work, data, args.repeat)
                applied = apply_runs(info, work, base, groups, members)
        finally:
            proc.terminate()
            proc.wait(30)
    report(args, info, world, first, runs, applied, time.monotonic() - t_start)


def report(args, info: dict, world: dict, first: dict, runs: dict, applied: list[dict], total_s: float) -> None:
    med = {scope: median_run(r) for scope, r in runs.items()}
    removal_each = [s for a in applied for s in a["remove"]["each"].get("users: one removal", [])]
    rss = max([r["peak_rss_mb"] for rs in runs.values() for r in rs] + [first["peak_rss_mb"]]
              + [a[k]["peak_rss_mb"] for a in applied for k in ("warn", "remove")])
    result = {"plays": info["plays"], "users": info["users"], "members": world["members"],
              "assignments": {"labels": info["label_pairs"], "cli": len(info["cli_pairs"]), "file": info["file_pairs"],
                              "file_entries": len(info["file_entries"]), "movies": info["movie_pairs"],
                              "shows": info["show_pairs"]},
              "setup": world, "targets_seconds": TARGETS, "first_all": first, "medians": med,
              "runs": {s: [r["seconds"] for r in rs] for s, rs in runs.items()}, "peak_rss_mb": rss,
              "applied": applied, "removal_seconds": removal_each, "bench_seconds": total_s}
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "enforce.json").write_text(json.dumps(result, indent=2, default=str))

    a = result["assignments"]
    print(f"{info['plays']:,} plays, {world['members']:,} users with access, {world['movies_and_episodes']:,} movies "
          f"and episodes; {a['labels'] + a['cli'] + a['file']:,} assignments ({a['labels']:,} labels, {a['cli']:,} "
          f"invoke assign, {a['file']:,} in {a['file_entries']:,} retention.toml entries; {a['movies']:,} movies, "
          f"{a['shows']:,} shows) and one rule; ingest {world['ingest_seconds']:.1f} s. Medians of {args.repeat} "
          f"alternated runs; bench {total_s:.0f} s.")
    print("| scope | run (median) | runs | process | audit rows | lines | queue (due) | peak RSS | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = [(f"all, first run ({FIRST_RUN_DAYS} days earlier)", first, [first], "all")] + [(s, med[s], runs[s], s) for s in SCOPES]
    for name, r, all_runs, key in rows:
        each = ", ".join(f"{x['seconds']:.1f}" for x in all_runs)
        print(f"| {name} | **{r['seconds']:.2f} s** | {each} | {r['process_seconds']:.1f} s | {r['audit_rows']:,} "
              f"| {r['lines']:,} | {r['queued']:,} ({r['due']:,}) | {r['peak_rss_mb']:,.0f} MB | < {TARGETS[key]} s |")
    print()
    print("Where the median `all` dry run spends its time (wrapped steps overlap; SQL per file, with calls):")
    timers = med["all"]["timers"]
    calls = med["all"]["calls"]
    for key, seconds in sorted(timers.items(), key=lambda kv: -kv[1])[:14]:
        print(f"- {key}: {seconds:.2f} s ({calls[key]} call{'s' if calls[key] != 1 else ''})")
    if applied:
        print()
        print("| applied users run | run (median) | removals | per removal (median / max) | plex.tv unshare "
              "(median) | removal notice (median) | peak RSS |")
        print("|---|---|---|---|---|---|---|")
        for day in ("warn", "remove"):
            r = median_run([x[day] for x in applied])
            per, unshare, notice = ([s for x in applied for s in x[day]["each"].get(k, [])] for k in (
                "users: one removal", "plex.tv unshare", "users: removal notice"))
            cells = (f"{statistics.median(per):.2f} s / {max(per):.2f} s (target < {TARGETS['removal']} s) | "
                     f"{statistics.median(unshare):.2f} s | {statistics.median(notice):.3f} s") if per else "- | - | -"
            what = "day 0: 5 warnings" if day == "warn" else "day 4: 5 removals"
            print(f"| {what} | {r['seconds']:.2f} s | {sum(x[day]['removed'] for x in applied)} | {cells} "
                  f"| {r['peak_rss_mb']:,.0f} MB |")
        print(f"\nE-mails delivered to the loopback SMTP sink (warnings, removal notices, admin reports): "
              f"{sum(x['emails_delivered'] for x in applied)}")


if __name__ == "__main__":
    main()
