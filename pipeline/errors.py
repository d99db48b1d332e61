"""Marquee's one exception hierarchy: each message is one line that says what to fix."""


class MarqueeError(Exception):
    """Base class; `str()` is the one-line message a user sees."""

    exit_code = 1


class ConfigError(MarqueeError):
    """A setting is missing or invalid."""

    exit_code = 2


class StoreError(MarqueeError):
    """The DuckDB store cannot be opened, migrated or written."""


class LockBusy(StoreError):
    """Another Marquee run holds the single-writer lock."""

    exit_code = 75  # EX_TEMPFAIL: cron may simply try again later


class SourceError(MarqueeError):
    """An upstream server (Tautulli, Plex, Sonarr, Radarr) failed or answered nonsense."""

    kind = ""  # what went wrong, set by clients.http for callers that react to it: "refused", "server", ...
    status: int | None = None  # the HTTP status, when there was an answer


class Unreachable(SourceError):
    """The server could not be reached at all."""


class BadResponse(SourceError):
    """The server answered, but the answer is an error or is malformed."""


class Rejected(BadResponse):
    """The server refused Marquee's API key or token: a setting to fix."""

    exit_code = 2


class RefusedToAct(MarqueeError):
    """A guard refused a destructive step (stale data, too many actions)."""

    exit_code = 3


class StoppedPartway(MarqueeError):
    """A run stopped on an error after earlier steps had acted: `lines` say what they did; the cause's exit code."""

    def __init__(self, message: str, cause: MarqueeError, lines: list[str]) -> None:
        super().__init__(message)
        self.exit_code = cause.exit_code
        self.lines = lines
