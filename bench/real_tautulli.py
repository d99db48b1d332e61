"""A real, unmodified Tautulli for the ingest bench: its source, a seeded SQLite history, a headless process.

Nothing here runs unless `bench/ingest.py --real-tautulli SOURCE` asks for it. SOURCE is a folder holding
Tautulli's source (github.com/Tautulli/Tautulli at tag v2.17.2, e.g. a `git clone --depth 1 --branch v2.17.2`)
or `auto`, which makes that clone under bench/results/tautulli-src. Tautulli runs on Python 3.11 from its own
lib/ (`--tautulli-python`), bound to 127.0.0.1, with no browser, no update checks and no Plex server.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import psutil
import requests

VERSION = "v2.17.2"
REPO = "https://github.com/Tautulli/Tautulli.git"
PLATFORMS = [("Chrome", "Plex Web", "Chrome"), ("Roku", "Plex for Roku", "Living Room"),
             ("Android", "Plex for Android (TV)", "SHIELD Android TV"), ("iOS", "Plex for iOS", "iPhone"),
             ("tvOS", "Plex for Apple TV", "Apple TV"), ("Windows", "Plex HTPC", "DESKTOP-1")]
DECISIONS = ["direct play", "copy", "transcode"]


def source(where: str, cache: Path) -> Path:
    """Tautulli's source folder: `where` itself, or (auto) a shallow clone of the tag into `cache`."""
    if where != "auto":
        path = Path(where).expanduser().resolve()
        if not (path / "Tautulli.py").is_file():
            raise SystemExit(f"--real-tautulli {where}: no Tautulli.py there (clone {REPO} at {VERSION})")
        return path
    if not (cache / "Tautulli.py").is_file():
        cache.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", VERSION, REPO, str(cache)], check=True)
    return cache


class RealTautulli:
    """One Tautulli process over one data folder; `start()`, `stop()`, `rss_mb()` and `peak` while sampled."""

    def __init__(self, src: Path, datadir: Path, python: str, port: int, tz: str = "UTC") -> None:
        self.src, self.datadir, self.python, self.port, self.tz = src, datadir, python, port, tz
        config = datadir / "config.ini"
        known = [l.split("=", 1)[1].strip() for l in config.read_text().splitlines()
                 if l.startswith("api_key")] if config.exists() else []
        self.api_key = known[0] if known else secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.db = datadir / "tautulli.db"

    def write_config(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        (self.datadir / "config.ini").write_text(
            "[General]\n"
            f"http_host = 127.0.0.1\nhttp_port = {self.port}\napi_enabled = 1\napi_key = {self.api_key}\n"
            "first_run_complete = 1\nlaunch_browser = 0\ncheck_github = 0\ncheck_github_on_startup = 0\n"
            "backup_interval = 0\nupdate_db_interval = 0\ngroup_history_tables = 1\n"
            "[PMS]\npms_ip = 127.0.0.1\npms_port = 9\n")

    def start(self, timeout: float = 300) -> None:
        if not (self.datadir / "config.ini").exists():
            self.write_config()
        env = {**os.environ, "TZ": self.tz, "PYTHONDONTWRITEBYTECODE": "1"}
        log = open(self.datadir / "stdout.log", "ab")
        self.proc = subprocess.Popen(
            [self.python, str(self.src / "Tautulli.py"), "--nolaunch", "--quiet", "--datadir", str(self.datadir),
             "--config", str(self.datadir / "config.ini"), "--port", str(self.port), "--nofork"],
            cwd=self.src, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"Tautulli exited ({self.proc.returncode}); see {self.datadir}/stdout.log")
            try:
                if self.call("arnold").get("response", {}).get("result") == "success":
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit("Tautulli did not answer within the timeout")

    def call(self, cmd: str, **params) -> dict:
        return requests.get(f"{self.url}/api/v2", params={"apikey": self.api_key, "cmd": cmd, **params},
                            timeout=3600).json()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def rss_mb(self) -> float:
        return psutil.Process(self.proc.pid).memory_info().rss / 2**20


class PeakRss:
    """Sample a process's RSS every `every` seconds in a thread; `.peak` in MB."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        import threading

        self.process, self.every, self.peak = psutil.Process(pid), every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss / 2**20)
            except psutil.Error:
                return
            self._stop.wait(self.every)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def seed(db: Path, rows: int, users: int = 2000, days: int = 730, now: int | None = None, first_id: int = 1,
         seed_value: int = 16) -> None:
    """Append `rows` plays to Tautulli's own tables (the schema its dbcheck made), spread over `days`."""
    rng = random.Random(seed_value + first_id)
    now = now or int(time.time())
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    if first_id == 1:
        con.executemany(
            "INSERT OR IGNORE INTO users (user_id, username, friendly_name, thumb, email, is_active) VALUES (?,?,?,?,?,1)",
            [(1000 + u, f"viewer{u}", f"Viewer Number {u}", f"https://plex.tv/users/{u:016x}/avatar",
              f"viewer{u}@example.org") for u in range(users)])
        con.executemany(  # get_libraries_table joins these with every history row, as on a real server
            "INSERT INTO library_sections (server_id, section_id, section_name, section_type, count, parent_count,"
            " child_count, is_active, deleted_section) VALUES ('', ?, ?, ?, ?, ?, ?, 1, 0)",
            [(1, "Movies", "movie", 4000, None, None), (2, "TV Shows", "show", 400, 2800, 64000),
             (3, "Music", "artist", 0, 0, 0)])
    shows = [f"Show {s} — The Long Name of a Series" for s in range(400)]
    history, meta, media = [], [], []

    def flush() -> None:
        con.executemany(
            "INSERT INTO session_history (id, reference_id, started, stopped, rating_key, user_id, user, ip_address,"
            " paused_counter, player, product, platform, machine_id, location, secure, relayed, parent_rating_key,"
            " grandparent_rating_key, media_type, section_id, view_offset) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", history)
        con.executemany(
            "INSERT INTO session_history_metadata (id, rating_key, parent_rating_key, grandparent_rating_key, title,"
            " parent_title, grandparent_title, original_title, full_title, media_index, parent_media_index, thumb,"
            " parent_thumb, grandparent_thumb, media_type, year, originally_available_at, added_at, duration, guid,"
            " live) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)", meta)
        con.executemany(
            "INSERT INTO session_history_media_info (id, rating_key, video_decision, audio_decision,"
            " transcode_decision, duration) VALUES (?,?,?,?,?,?)", media)
        history.clear(), meta.clear(), media.clear()

    span = days * 86400
    for i in range(rows):
        pid = first_id + i
        # More plays lately, as a growing server has; ids follow time, as Tautulli inserts them.
        started = now - span + int(span * ((i + 1) / rows) ** 0.8) - rng.randrange(0, 600)
        if first_id > 1:
            started = now - rng.randrange(0, 3600) - 60
        user = rng.randrange(users)
        plat = rng.randrange(len(PLATFORMS))
        duration = rng.choice([1320, 2640, 5400, 7200]) * 1000
        offset = int(duration * rng.random())
        paused = rng.randrange(0, 300)
        stopped = started + offset // 1000 + paused
        episode = rng.random() < 0.7
        if episode:
            show = rng.randrange(len(shows))
            season, number = rng.randrange(1, 8), rng.randrange(1, 24)
            rk, prk, gprk = 100000 + show * 1000 + season * 40 + number, 50000 + show * 10 + season, 40000 + show
            title, ptitle, gtitle = f"Episode {number}: A Title That Is Typical", f"Season {season}", shows[show]
            full, mtype, section, idx, pidx = f"{gtitle} - {title}", "episode", 2, number, season
        else:
            movie = rng.randrange(4000)
            rk, prk, gprk, title, ptitle, gtitle = 10000 + movie, None, None, f"Movie {movie}: A Subtitle", "", ""
            full, mtype, section, idx, pidx = title, "movie", 1, None, None
        name, product, player = PLATFORMS[plat]
        history.append((pid, pid, started, stopped, rk, 1000 + user, f"viewer{user}", f"10.0.{user % 250}.{plat}",
                        paused, player, product, name, f"machine{user:05d}{plat}", "lan" if user % 3 else "wan", 1, 0,
                        prk, gprk, mtype, section, offset))
        meta.append((pid, rk, prk, gprk, title, ptitle, gtitle, "", full, idx, pidx, f"/library/metadata/{rk}/thumb/1",
                     f"/library/metadata/{prk}/thumb/1" if prk else "", f"/library/metadata/{gprk}/thumb/1" if gprk else "",
                     mtype, 2000 + rk % 24, "2015-06-01", started - 86400 * 30, duration, f"plex://{mtype}/{rk:024x}"))
        media.append((pid, rk, "direct play", "direct play", DECISIONS[rng.randrange(3)], duration))
        if len(history) >= 50_000:
            flush()
    flush()
    con.commit()
    con.close()


# -- the bench ------------------------------------------------------------------------------------------------

def prepared(args, results: Path) -> RealTautulli:
    """A Tautulli whose database holds `args.rows` seeded plays (made once, then reused from results/)."""
    src = source(args.real_tautulli, results / "tautulli-src")
    datadir = results / f"real-tautulli-{args.rows}"
    tautulli = RealTautulli(src, datadir, args.tautulli_python, args.tautulli_port)
    marker = datadir / "seeded"
    if not marker.exists():
        tautulli.start()  # its dbcheck creates the schema we seed
        tautulli.stop()
        seed(tautulli.db, args.rows)
        marker.write_text(str(args.rows))
    return tautulli


def fetch(tautulli: RealTautulli, strategy: str, size: int) -> dict:
    """Every row by one strategy, downloaded (gzip) and parsed, rows then dropped: what any client pays."""
    from datetime import date

    import orjson

    from pipeline.ingest.history_windows import WindowPlan, history_windows

    session = requests.Session()
    session.headers["Accept-Encoding"] = "gzip"
    base = {"grouping": 0, "include_activity": 0, "order_column": "date", "order_dir": "desc"}

    def call(cmd: str, **params) -> dict:
        answer = session.get(f"{tautulli.url}/api/v2", params={"apikey": tautulli.api_key, "cmd": cmd, **params},
                             timeout=7200)
        return orjson.loads(answer.content)["response"]["data"]

    rows = requests_made = 0
    if strategy == "windows":
        plan = WindowPlan(size, date.today())
        for page, _ in history_windows(call, plan, {**base, "start": 0, "length": 2**31 - 1}):
            rows, requests_made = rows + len(page), requests_made + 1
    else:  # "pages": start/length, as Marquee paged before; size = all rows is the one-request case
        start = 0
        while True:
            page = call("get_history", **base, start=start, length=size)["data"]
            rows, requests_made, start = rows + len(page), requests_made + 1, start + size
            if len(page) < size:
                break
    return {"rows": rows, "requests": requests_made}


def measured(tautulli: RealTautulli, work) -> dict:
    """Run `work()`; wall seconds, Tautulli's peak RSS and CPU seconds, and the client's."""
    me = psutil.Process()
    them = psutil.Process(tautulli.proc.pid)
    cpu0, mine0 = sum(them.cpu_times()[:2]), sum(me.cpu_times()[:2])
    with PeakRss(tautulli.proc.pid) as theirs, PeakRss(me.pid) as ours:
        started = time.monotonic()
        out = work() or {}
        seconds = time.monotonic() - started
    client_mb, client_cpu = out.pop("peak_mb", ours.peak), out.pop("cpu_s", sum(me.cpu_times()[:2]) - mine0)
    return {**out, "seconds": round(seconds, 1), "tautulli_peak_mb": round(theirs.peak),
            "tautulli_cpu_s": round(sum(them.cpu_times()[:2]) - cpu0, 1), "client_peak_mb": round(client_mb),
            "client_cpu_s": round(client_cpu, 1)}


def marquee(tautulli: RealTautulli, data_dir: Path, page_size: int, root: Path, python: str) -> dict:
    """One `invoke ingest` process against it; its own peak RSS (sampled) and CPU seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE", "TAUTULLI", "PLEX"))}
    env.update(TAUTULLI_URL=tautulli.url, TAUTULLI_API_KEY=tautulli.api_key, MARQUEE_DATA_DIR=str(data_dir),
               MARQUEE__SERVER__TIMEZONE=tautulli.tz, MARQUEE__TAUTULLI__PAGE_SIZE=str(page_size),
               MARQUEE__TAUTULLI__TIMEOUT_SECONDS="600", PYTHONPATH=str(root))
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([python, "-m", "invoke", "ingest"], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    child = psutil.Process(proc.pid)
    with PeakRss(proc.pid) as peak:
        cpu = 0.0
        while proc.poll() is None:
            try:
                cpu = sum(child.cpu_times()[:2])
            except psutil.Error:
                break
            time.sleep(0.05)
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed:\n{err[-2000:]}")
    return {"peak_mb": peak.peak, "cpu_s": cpu, "summary": out.strip().splitlines()[0]}


def bench(args, root: Path, results: Path) -> dict:
    """Each strategy at args.rows, then Marquee's first, no-change and incremental runs."""
    import shutil

    tautulli = prepared(args, results)
    tautulli.start()
    out: dict = {"rows": args.rows, "load_before": os.getloadavg(), "idle_tautulli_mb": round(tautulli.rss_mb())}
    data = results / f"marquee-{args.rows}"
    try:
        if args.later_runs_only:  # the store a first run left, less the plays later runs added
            data = later_store(data, results / f"marquee-{args.rows}-later", args.rows)
        for strategy in [] if args.later_runs_only else args.strategies:
            kind, _, size = strategy.partition(":")
            size = args.rows if size == "all" else int(size)
            fresh(tautulli)
            out[strategy] = measured(tautulli, lambda: fetch(tautulli, kind, size))
            print(strategy, out[strategy], flush=True)
        if not args.later_runs_only:
            shutil.rmtree(data, ignore_errors=True)
            fresh(tautulli)
            out["marquee_first"] = measured(tautulli, lambda: marquee(tautulli, data, args.page_size, root,
                                                                      sys_python()))
            print("first", out["marquee_first"], flush=True)
        for i in range(args.repeat if args.later_runs_only else 1):  # the first no-change run is the one kept
            run = measured(tautulli, lambda: marquee(tautulli, data, args.page_size, root, sys_python()))
            out.setdefault("marquee_no_change", run)
            out.setdefault("marquee_no_change_runs", []).append(run)
            print("no change", run, flush=True)
        newest = sqlite3.connect(tautulli.db).execute("SELECT max(id) FROM session_history").fetchone()[0]
        seed(tautulli.db, 1000, first_id=newest + 1)  # while Tautulli runs, as plays end
        out["marquee_incremental_1000"] = measured(tautulli, lambda: marquee(tautulli, data, args.page_size, root,
                                                                             sys_python()))
        print("incremental", out["marquee_incremental_1000"], flush=True)
    finally:
        tautulli.stop()
        out["load_after"] = os.getloadavg()
    # The next bench starts from the seeded history again.
    con = sqlite3.connect(tautulli.db)
    for table in ("session_history", "session_history_metadata", "session_history_media_info"):
        con.execute(f"DELETE FROM {table} WHERE id > ?", (args.rows,))
    con.commit()
    con.close()
    return out


def later_store(first: Path, copy: Path, rows: int) -> Path:
    """A copy of the store an earlier first run made, as it was before its incremental run's plays."""
    import shutil

    import duckdb

    if not (first / "marquee.duckdb").exists():
        raise SystemExit(f"--later-runs-only: no store from a first run in {first}")
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    shutil.copy2(first / "marquee.duckdb", copy / "marquee.duckdb")
    con = duckdb.connect(str(copy / "marquee.duckdb"))
    con.execute("DELETE FROM tautulli_history WHERE play_id > ?", [rows])
    con.close()
    return copy


def fresh(tautulli: RealTautulli) -> None:
    """A restarted Tautulli: its worker threads keep the memory of earlier requests, which is not ours to count."""
    tautulli.stop()
    tautulli.start()


def sys_python() -> str:
    import sys

    return sys.executable
