"""Ending a user's access through unmodified plexapi: this server's share only, read fresh before acting.

plexapi's updateFriend(removeSections=True) sends DELETE /api/servers/{ourMachineId}/shared_servers/{shareId}
and nothing else, so the owner's other servers keep their shares. removeFriend (every server of the owner)
is used only when users.remove_friend asks for it.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

import requests

from pipeline.errors import BadResponse, MarqueeError
from pipeline.clients.plex import connect, make_session, plex_errors
from pipeline.logs import RedactingFilter

if TYPE_CHECKING:
    from pipeline.settings import Settings

log = logging.getLogger(__name__)

UNSHARED, REMOVED_FRIEND, ALREADY = "unshared", "removed_friend", "already"


class PlexAccess:
    """plex.tv and our Plex server over one session, connected on first use."""

    def __init__(self, settings: "Settings", session: requests.Session | None = None) -> None:
        if not settings.plex.configured:
            raise MarqueeError("removing users needs Plex: set PLEX_URL and PLEX_TOKEN")
        self.settings = settings
        self.session = session or make_session(settings.plex)
        self._server: Any = None
        self._account: Any = None
        self._sections: list[Any] | None = None

    def _errors(self, what: str = "plex.tv"):
        plex = self.settings.plex
        return plex_errors(what, plex.plextv_url if what == "plex.tv" else plex.url, plex.token.get_secret_value())

    def _connect(self) -> None:
        if self._account is None:
            self._server, self._account = connect(self.settings.plex, session=self.session)
        if self._sections is None:
            with self._errors("Plex"):
                self._sections = self._server.library.sections()
            if not self._sections:
                # updateFriend with no sections silently does nothing: never mistake that for an unshare.
                raise MarqueeError(f"Plex at {self.settings.plex.url} lists no libraries, so plexapi cannot "
                                   "unshare anyone; check the server")

    @property
    def machine_identifier(self) -> str:
        self._connect()
        return self._server.machineIdentifier

    def connect(self) -> None:
        """Connect now (GET / on Plex, /api/v2/user on plex.tv, the library sections); raises with one line."""
        self._connect()

    def unshare(self, user_id: int, *, remove_friend: bool = False) -> str:
        """End this user's access to our server: UNSHARED, REMOVED_FRIEND, or ALREADY (nothing to do)."""
        self._connect()
        mid = self._server.machineIdentifier
        token = self.settings.plex.token.get_secret_value()
        with self._errors(), _plexapi_errors(f"unsharing user {user_id}", token):
            # Fresh from plex.tv: a run killed after an earlier unshare finds it done and sends nothing again.
            user = next((u for u in self._account.users() if u.id == user_id), None)
            ours = [s for s in user.servers if s.machineIdentifier == mid] if user is not None else []
            if not ours:
                if user is not None and user.home:
                    raise MarqueeError(f"user {user_id} is in the owner's Plex Home, which gives access without a "
                                       "share; remove them from the Home by hand (Marquee only unshares)")
                # One listing missing them is not proof (a partial or empty answer): our server's own share
                # list must lack them too.
                if user_id in self._shared_user_ids(mid):
                    raise BadResponse(f"plex.tv lists a share of this server for user {user_id} but not the user "
                                      "(a partial answer, or an invitation not yet accepted)")
                log.info("plex.tv: user %s has no share of this server any more; nothing to unshare", user_id)
                return ALREADY
            if remove_friend:
                self._account.removeFriend(user)
                return REMOVED_FRIEND
            self._account.updateFriend(user, self._server, sections=self._sections, removeSections=True)
        return UNSHARED

    def _shared_user_ids(self, mid: str) -> set[int]:
        """plex.tv user ids holding a share of our server (GET /api/servers/{mid}/shared_servers)."""
        from plexapi.myplex import MyPlexAccount

        from pipeline.clients.plex_rows import share_rows

        container = self._account.query(MyPlexAccount.FRIENDINVITE.format(machineId=mid))
        if container is None or container.tag != "MediaContainer":
            raise BadResponse("plex.tv answered the shared_servers list of this server without a MediaContainer; "
                              "retried next run")
        return set(share_rows(container))


@contextmanager
def _plexapi_errors(what: str, token: str) -> Iterator[None]:
    """plexapi's own slips (a PMS library missing from plex.tv's list raises KeyError) as one-line BadResponse."""
    try:
        yield
    except (KeyError, IndexError, AttributeError, TypeError, ValueError) as exc:
        detail = RedactingFilter([token]).redact(str(exc).splitlines()[0][:80]) if str(exc) else ""
        raise BadResponse(f"plexapi failed {what}: {type(exc).__name__}{' ' + detail if detail else ''} "
                          "(plex.tv and Plex disagree, e.g. a library plex.tv does not list); "
                          "re-ingest, or unshare by hand") from None


def delete_tautulli_history(settings: "Settings", user_id: int) -> None:
    """Delete the user's history in Tautulli (Marquee's own store keeps it); raises with one line."""
    from pipeline.clients.tautulli import TautulliClient

    if not settings.tautulli.configured:
        raise MarqueeError("users.delete_tautulli_history is on but Tautulli is not configured")
    TautulliClient(settings.tautulli).call("delete_all_user_history", user_id=str(user_id))
