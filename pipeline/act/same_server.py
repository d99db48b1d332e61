"""Refuse to act on a Plex server other than the one the store describes (a PLEX_URL pointed elsewhere)."""

from __future__ import annotations

from typing import Any

from pipeline.errors import RefusedToAct
from pipeline.store import Store


def ensure_same_server(store: Store, machine_identifier: str, name: str = "") -> None:
    """Raise RefusedToAct when the live server is not the stored one; rating keys and shares mean nothing across servers."""
    stored = store.execute("ingest/stored_server")
    if stored and stored[0][0] != machine_identifier:
        raise RefusedToAct(f"PLEX_URL now reaches Plex server {name or '?'!r} ({machine_identifier}), but this store "
                           f"describes {stored[0][1]!r} ({stored[0][0]}); nothing is done. Point PLEX_URL back, or "
                           "use another data.dir for the other server")


def live_identity(server: Any) -> tuple[str, str]:
    return str(server.machineIdentifier), str(getattr(server, "friendlyName", "") or "")
