"""Logging set-up: secrets redacted everywhere, rich on a terminal, plain lines otherwise; server-zone times."""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime, tzinfo
from typing import Iterable
from zoneinfo import ZoneInfo

log = logging.getLogger("marquee")

# Query-string and header forms of credentials, whatever their value.
_PATTERNS = [
    re.compile(r"(?i)(apikey=)[^&\s'\"]+"),
    re.compile(r"(?i)(X-Plex-Token[=:]\s*)[^&\s'\"]+"),
    re.compile(r"(?i)(X-Api-Key[=:]\s*)[^&\s'\"]+"),
]


class RedactingFilter(logging.Filter):
    """Replaces known secret values and credential parameters in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = {s for s in secrets if s and len(s) >= 6}

    def add(self, *secrets: str) -> None:
        self.secrets.update(s for s in secrets if s and len(s) >= 6)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        for pattern in _PATTERNS:
            text = pattern.sub(r"\1[redacted]", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


REDACTOR = RedactingFilter()


def counted(n: int, word: str) -> str:
    """'1 page', '3 pages', '6,000 plays': a count and its noun, for what the terminal prints."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def is_terminal() -> bool:
    return sys.stderr.isatty()


def local_time(t: datetime, zone: tzinfo | None) -> datetime:
    """An aware moment in `zone` (the server's), or in this machine's zone when there is none."""
    return t.astimezone(zone) if zone is not None else t.astimezone()


_UTC_STAMP = re.compile(r"\b(\d{4}-\d\d-\d\d \d\d:\d\d) UTC\b")


def server_times(text: str, timezone: str) -> str:
    """A line with stored UTC stamps ('2026-11-16 09:00 UTC') as the terminal shows it ('2026-11-16 04:00 EST').

    Reasons are decided and stored in UTC; only what is printed changes, so every time on a screen is the
    server's, labelled with its zone.
    """
    zone = ZoneInfo(timezone)

    def local(m: re.Match) -> str:
        at = datetime.fromisoformat(m.group(1)).replace(tzinfo=ZoneInfo("UTC"))
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    return _UTC_STAMP.sub(local, text)


class ZonedFormatter(logging.Formatter):
    """Log times in the server's time zone and labelled with it ('2026-11-16 04:00:05 EST'), like every
    other time the terminal shows; without a zone, the machine's, still labelled."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        when = local_time(datetime.fromtimestamp(record.created).astimezone(), _ZONE[0])
        return when.strftime(datefmt or "%Y-%m-%d %H:%M:%S %Z")


_ZONE: list[tzinfo | None] = [None]  # the zone log times are shown in; set_timezone changes it


def set_timezone(timezone: str | None) -> None:
    """Show log times in this zone from now on (the demo learns its server's zone after logging is set up)."""
    _ZONE[0] = ZoneInfo(timezone) if timezone else None


def setup(secrets: Iterable[str] = (), verbose: bool = False, timezone: str | None = None) -> None:
    """Install one handler on the root logger with the redactor on it; times in `timezone` (server.timezone)."""
    REDACTOR.add(*secrets)
    set_timezone(timezone)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_marquee", False):
            root.removeHandler(handler)
    if is_terminal():
        from rich.logging import RichHandler
        from rich.text import Text

        handler: logging.Handler = RichHandler(
            show_path=False, markup=False, rich_tracebacks=False,
            log_time_format=lambda t: Text(local_time(t.astimezone(), _ZONE[0]).strftime("[%H:%M:%S %Z]")))
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(ZonedFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(REDACTOR)
    handler._marquee = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("urllib3", "botocore", "boto3", "plexapi", "pelican", "markdown", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Progress:
    """A rich progress bar on a terminal; a log line every `every` seconds otherwise."""

    def __init__(self, label: str, total: int | None = None, unit: str = "rows", every: float = 5.0) -> None:
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self.done = 0
        self.notes: list[str] = []
        self._bar = None
        self._last = 0.0

    def __enter__(self) -> "Progress":
        import time

        self._start = time.monotonic()
        if is_terminal():
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                            transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, rate="")
        return self

    def note(self, text: str) -> None:
        """What is happening while nothing advances ("Tautulli is preparing …"): the bar's label, or a log line."""
        self.notes.append(text)
        if self._bar is not None:
            self._bar.update(self._task, description=f"{self.label}: {text}")
        else:
            log.info("%s: %s", self.label, text)

    def set_total(self, total: int) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def advance(self, n: int = 1) -> None:
        import time

        self.done += n
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = f"{self.done / elapsed:,.0f} {self.unit}/s"
        if self._bar is not None:
            self._bar.update(self._task, advance=n, rate=rate)
        elif time.monotonic() - self._last >= self.every:
            self._last = time.monotonic()
            of, eta = "", ""
            if self.total:
                of = f"/{self.total:,}"
                # Nothing done yet (an empty first window) gives no rate to divide by.
                eta = (f", about {max(self.total - self.done, 0) / (self.done / elapsed):,.0f}s left" if self.done
                       else ", time left not known yet")
            log.info("%s: %s%s %s (%s%s)", self.label, f"{self.done:,}", of, self.unit, rate, eta)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

