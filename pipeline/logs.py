"""Logging set-up: secrets redacted everywhere, rich on a terminal, plain lines otherwise."""

from __future__ import annotations

import logging
import re
import sys
from typing import Iterable

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


def is_terminal() -> bool:
    return sys.stderr.isatty()


def setup(secrets: Iterable[str] = (), verbose: bool = False) -> None:
    """Install one handler on the root logger with the redactor on it."""
    REDACTOR.add(*secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_marquee", False):
            root.removeHandler(handler)
    if is_terminal():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, markup=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
                eta = f", about {max(self.total - self.done, 0) / max(self.done / elapsed, 1e-9):,.0f}s left"
            log.info("%s: %s%s %s (%s%s)", self.label, f"{self.done:,}", of, self.unit, rate, eta)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

