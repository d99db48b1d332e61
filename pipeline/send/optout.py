"""The local opt-out list: addresses that asked Marquee to stop mailing them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.clock import Clock, SystemClock
from pipeline.errors import ConfigError
from pipeline.send.address import normalize

if TYPE_CHECKING:
    from pipeline.store import Store

# Kinds an opt-out stops: the newsletter. Inactivity warnings and removal notices are about the reader's
# access, so they still go (a removal must never happen without its warning); admin mail goes to the admin.
OPTOUT_KINDS = frozenset({"digest", "welcome"})


def _address(email: str) -> str:
    address = normalize(email)
    if address is None:
        raise ConfigError(f"{email!r} is not an e-mail address")
    return address


def optout(store: "Store", email: str, *, source: str = "cli", clock: Clock | None = None) -> bool:
    """Stop mailing `email`; return False when it was already opted out."""
    now = (clock or SystemClock()).now()
    return bool(store.execute("send/add_optout", {"email": _address(email), "now": now, "source": source}))


def optin(store: "Store", email: str) -> bool:
    """Mail `email` again; return False when it was not opted out."""
    return bool(store.execute("send/remove_optout", {"email": _address(email)}))


def opted_out(store: "Store") -> set[str]:
    """Every opted-out address, lower-cased."""
    return {row[0] for row in store.execute("send/optouts")}
