"""plex.tv's PIN sign-in (plexapi's MyPlexPinLogin) and the Plex Media Servers the signed-in account owns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from pipeline.clients.http import reason
from pipeline.clients.plex import PLEXTV, connect_account, make_session, plex_errors
from pipeline.errors import MarqueeError, Unreachable
from pipeline.logs import REDACTOR

if TYPE_CHECKING:
    from pipeline.settings import PlexSettings

LINK = "https://plex.tv/link"
HEADERS = {"X-Plex-Product": "Marquee", "X-Plex-Device-Name": "Marquee"}  # how plex.tv lists the new device


class PinGone(MarqueeError):
    """plex.tv no longer knows the code: it expired, was cancelled, or plex.tv stopped answering."""


@dataclass(frozen=True)
class OwnedServer:
    name: str
    machine_identifier: str
    urls: tuple[str, ...]  # best first: local connections, then remote ones; relays never


class PinSignIn:
    """One 4-character code: `code()` asks plex.tv for it, `poll()` returns the token once it is linked."""

    def __init__(self, plex: "PlexSettings") -> None:
        from plexapi.myplex import MyPlexPinLogin

        self.plextv_url = plex.plextv_url
        self._pin = MyPlexPinLogin(session=make_session(plex), requestTimeout=plex.timeout_seconds,
                                   headers=HEADERS)

    def code(self) -> str:
        with plex_errors("plex.tv", self.plextv_url):
            code = self._pin.pin
        if not code:
            raise PinGone(f"plex.tv at {self.plextv_url} gave no code; try again")
        return code

    def poll(self) -> str | None:
        """The account's token once the code is linked; None while waiting; PinGone when it never will be."""
        if self._pin.checkLogin():
            token = str(self._pin.token)
            REDACTOR.add(token)
            return token
        if self._pin.expired:  # plexapi folds every failure of the check (a 404, no answer) into this
            raise PinGone("plex.tv no longer knows the code (it expired or was cancelled); run `invoke login` again")
        return None


def owned_servers(plex: "PlexSettings", token: str) -> tuple[str, list[OwnedServer]]:
    """(the account's username, the servers it owns) for a fresh token."""
    account = connect_account(plex.model_copy(update={"token": SecretStr(token)}))
    with plex_errors("plex.tv", plex.plextv_url, token):
        resources = account.resources()
    servers = []
    for res in resources:
        if "server" not in (res.provides or "").split(",") or not res.owned:
            continue
        conns = sorted((c for c in res.connections if not c.relay), key=lambda c: not c.local)
        servers.append(OwnedServer(res.name, res.clientIdentifier, tuple(c.uri for c in conns)))
    return account.username or account.email or "this account", servers


def plextv_answers(plex: "PlexSettings") -> None:
    """Raise Unreachable unless plex.tv answers at all (any HTTP status will do: no token is sent)."""
    import requests

    session = make_session(plex)
    try:
        session.get(f"{PLEXTV}/api/v2/ping", headers={"Accept": "application/xml"}, timeout=plex.timeout_seconds)
    except requests.RequestException as exc:
        raise Unreachable(f"plex.tv at {plex.plextv_url} is not reachable: {reason(exc)}") from None
    finally:
        session.close()
