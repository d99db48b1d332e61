"""`invoke doctor`: one screen of checks, each ✔ or ✘ with a one-line fix; it fails when a needed check fails."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Callable

from pipeline.clock import Clock, SystemClock
from pipeline.errors import ConfigError, MarqueeError
from pipeline.logs import REDACTOR
from pipeline.run import doctor_remote as remote
from pipeline.run.doctor_remote import Check
from pipeline.settings import Settings, load_settings
from pipeline.store.peek import StoreBusy, peek_store, versions

MARK = {True: "✔", False: "✘", None: "–"}


class DoctorFailed(MarqueeError):
    """At least one check a configured feature needs failed."""


def doctor(config: str | None, env_path: Path, *, out: Callable[[str], None] = print,
           clock: Clock | None = None, environ: dict[str, str] | None = None) -> list[Check]:
    """Run every check, print one line each (and its fix), raise DoctorFailed when a needed one failed."""
    checks: list[Check] = []
    try:
        settings = load_settings(config, environ=environ, dotenv_path=env_path)
    except ConfigError as exc:
        checks.append(Check("Config", False, str(exc), "fix that key in marquee.toml or .env (docs/settings.md "
                                                       "lists every setting), then run `invoke doctor` again"))
        _line(checks[0], out)
        raise DoctorFailed("the configuration does not load; nothing else was checked") from None
    REDACTOR.add(*settings.secrets())
    checks.append(_config(config, env_path, environ))
    _line(checks[0], out)
    for check in _all(settings, clock or SystemClock()):
        checks.append(check)
        _line(check, out)
    failed = [c for c in checks if c.ok is False and c.needed]
    if failed:
        raise DoctorFailed(f"{len(failed)} check(s) failed: {', '.join(c.name for c in failed)}; "
                           "fix them (see each →) and run `invoke doctor` again")
    return checks


def _all(settings: Settings, clock: Clock):
    """The checks in the order a newcomer fixes things; a generator so each line shows as soon as it is known."""
    yield remote.tautulli(settings)
    yield from remote.plex(settings)
    yield remote.plextv(settings)
    yield from _data_dir(settings)
    store, store_check = _store(settings)
    yield store_check
    try:
        yield _last_ingest(settings, store, clock)
        yield from remote.email(settings, store)
    finally:
        if store is not None:
            store.close()
    yield remote.publish(settings)
    yield remote.discord(settings)
    yield from remote.arr(settings)


def _line(c: Check, out: Callable[[str], None]) -> None:
    out(REDACTOR.redact(f"{MARK[c.ok]} {c.name:<15} {c.detail}"))
    if c.ok is False or (c.ok is None and c.fix and c.needed):
        out(REDACTOR.redact(f"  {'':<15} → {c.fix}"))


def _config(config: str | None, env_path: Path, environ: dict[str, str] | None) -> Check:
    env = os.environ if environ is None else environ
    toml = Path(config or env.get("MARQUEE_CONFIG") or "marquee.toml")
    files = [str(p) for p in (toml, env_path) if p.is_file()]
    if env_path.is_file() and stat.S_IMODE(env_path.stat().st_mode) & 0o077:
        return Check("Config", False, f"{env_path} holds secrets but others may read it "
                                      f"(mode {stat.S_IMODE(env_path.stat().st_mode):04o})", f"chmod 600 {env_path}")
    return Check("Config", True, f"{' and '.join(files) or 'no file: environment and defaults'} read without errors")


def _data_dir(settings: Settings) -> list[Check]:
    folder = settings.data.dir
    fix = f"chmod 700 {folder} && chmod 600 {folder}/marquee.*"
    if not folder.exists():
        parent = next((p for p in folder.absolute().parents if p.exists()), Path("/"))
        if os.access(parent, os.W_OK | os.X_OK):
            return [Check("Data folder", True, f"{folder} does not exist yet; the first run makes it (0700)")]
        return [Check("Data folder", False, f"{folder} does not exist and {parent} is not writable",
                      "point data.dir (MARQUEE_DATA_DIR) at a folder Marquee may write")]
    probe = folder / ".marquee-doctor-probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return [Check("Data folder", False, f"{folder} is not writable ({exc.strerror})",
                      f"give the user Marquee runs as ({os.getuid()}) write access: chown it, or change data.dir")]
    loose = [p for p in [folder, *folder.glob("marquee.*")]
             if stat.S_IMODE(p.stat().st_mode) & 0o077]
    if loose:
        names = ", ".join(f"{p.name or p} ({stat.S_IMODE(p.stat().st_mode):04o})" for p in loose[:3])
        return [Check("Data folder", False, f"others may read the store (readers' names and addresses): {names}", fix)]
    return [Check("Data folder", True, f"{folder} is writable and private")]


def _store(settings: Settings):
    try:
        store = peek_store(settings)
    except StoreBusy as exc:
        return None, Check("Store", None, f"{exc}; not checked", "", needed=False)
    except MarqueeError as exc:
        return None, Check("Store", False, str(exc), "move the file aside; the next `invoke ingest` makes a new one")
    if store is None:
        return None, Check("Store", None, f"no store yet at {settings.data.db_path}",
                           "run `invoke ingest` (or `invoke build`) to make it", needed=False)
    have, newest = versions(store)
    if have > newest:
        store.close()
        return None, Check("Store", False, f"schema version {have} is newer than this Marquee knows ({newest})",
                           "update Marquee (this one is older than the one that last wrote the store)")
    note = "current" if have == newest else f"the next run migrates it to {newest}"
    return store, Check("Store", True, f"{settings.data.db_path}: schema version {have} ({note})")


def _last_ingest(settings: Settings, store, clock: Clock) -> Check:
    if store is None:
        return Check("Last ingest", None, "no store to read it from", "", needed=False)
    rows = store.records("ingest/last_successful_run")
    if not rows:
        return Check("Last ingest", None, "no successful ingest yet", "run `invoke ingest`", needed=False)
    finished = rows[0]["finished_at"]
    age = clock.now() - finished
    limit = timedelta(hours=settings.users.max_data_age_hours)
    when = f"{finished:%Y-%m-%d %H:%M} UTC, {_ago(age)} ago"
    if age > limit:
        return Check("Last ingest", False, f"the last successful ingest was {when}: enforcement refuses data older "
                     f"than {settings.users.max_data_age_hours:g} h",
                     "run `invoke ingest` and read its error, or check the daemon's log")
    return Check("Last ingest", True, f"{when} ({rows[0]['plays_new']} new plays)")


def _ago(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h" if minutes < 48 * 60 else f"{minutes // 1440} days"
