"""What a delivery backend (SES, SMTP) offers the run loop, and what one call can end as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pipeline.errors import MarqueeError

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.render.email.message import OutgoingMessage

# Attempt results
SENT, FAILED, RETRY, UNKNOWN, FATAL = "sent", "failed", "retry", "unknown", "fatal"


@dataclass(frozen=True)
class Attempt:
    """The result of one provider call for one message."""

    result: str                           # sent | failed | retry | unknown | fatal
    provider_id: str | None = None        # when sent
    error: str | None = None              # one line, never a secret
    throttled: bool = False               # retry because of the provider's rate limit: slow everyone down
    fatal: MarqueeError | None = None     # result fatal: stop the run with this
    give_up: MarqueeError | None = None   # result retry: stop the run with this once retries run out


class Backend(Protocol):
    """A delivery backend. `attempt` may run on `concurrency` threads at once."""

    name: str
    rate: float | None       # calls per second to pace to; None: unpaced
    concurrency: int         # parallel calls

    def open(self) -> None:
        """Connect and check the configuration; raise ConfigError with what to fix."""

    def suppressed(self) -> dict[str, str]:
        """Lower-cased address -> reason, for addresses the provider will not deliver to."""

    def attempt(self, msg: "OutgoingMessage") -> Attempt:
        """One provider call; never raises for a provider answer."""

    def delivered(self, msg: "OutgoingMessage") -> bool | None:
        """Whether a message whose outcome is unknown did arrive; None when the backend cannot tell."""

    def close(self) -> None:
        """Release connections."""


def no_delivery(name: str) -> str | None:
    """Why email.backend `name` cannot deliver (the one-line reason --apply refuses with), or None when it can."""
    if name != "outbox":
        return None
    return ('email.backend is "outbox", which delivers nothing (it is where dry runs write .eml files); '
            'set email.backend to "smtp" or "ses" (docs/settings.md) to send for real')


def make_backend(name: str, settings: "Settings") -> Backend:
    """The backend named in settings.email.backend (or passed explicitly); refuses one that cannot deliver."""
    from pipeline.errors import ConfigError

    refused = no_delivery(name)
    if refused:
        # Writing a file is not delivery: recorded as sent, it would stop a real backend from ever sending it.
        raise ConfigError(refused)
    if name == "ses":
        from pipeline.send.ses import SesBackend

        return SesBackend(settings)
    if name == "smtp":
        from pipeline.send.smtp import SmtpBackend

        return SmtpBackend(settings)
    raise ConfigError(f"email.backend {name!r} is not one of ses, smtp, outbox")
