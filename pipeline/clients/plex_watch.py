"""Each assignee's own watch state in Plex: their server token from plex.tv, then their view of the items.

PMS's viewCount, viewOffset and lastViewedAt describe only the token's own account, so each user is read with
the accessToken plex.tv lists for their share of this server (what plexapi's MyPlexUser.get_token reads; one
shared_servers listing serves every user here instead of one per user). Items are read in batches, one
`/library/metadata/{k1},{k2},...` request per chunk (the key plexapi's fetchItems builds from a list of
keys), and their attributes are read straight from the XML, as the inventory does: no object per item, and
lastViewedAt's epoch seconds become aware UTC here rather than through plexapi's naive local datetimes.
Tokens stay in memory for the run, travel in the X-Plex-Token header and are redacted from every log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

import requests

from pipeline.clock import utc_from_epoch
from pipeline.errors import BadResponse
from pipeline.logs import REDACTOR

if TYPE_CHECKING:
    from plexapi.myplex import MyPlexAccount
    from plexapi.server import PlexServer

    from pipeline.settings import PlexSettings

CHUNK = 100  # rating keys per request: about 800 characters of URL, one container page
LEAVES = ("movie", "episode")


@dataclass(frozen=True)
class ViewState:
    """One item as PMS shows it to one user."""

    rating_key: int
    view_count: int
    view_offset_ms: int | None
    last_viewed_at: datetime | None


class TokenRefused(BadResponse):
    """PMS answered 401 to a user's own token (a share removed or changed since plex.tv listed it)."""


def share_tokens(account: "MyPlexAccount", machine_identifier: str) -> dict[int, str]:
    """plex.tv user id -> their accessToken for this server, from one shared_servers listing."""
    from plexapi.myplex import MyPlexAccount

    tokens: dict[int, str] = {}
    for elem in account.query(MyPlexAccount.FRIENDINVITE.format(machineId=machine_identifier)):
        user_id, token = elem.get("userID"), elem.get("accessToken")
        if elem.tag == "SharedServer" and user_id and user_id.isdigit() and token:
            REDACTOR.add(token)
            tokens[int(user_id)] = token
    return tokens


def connect_as(plex: "PlexSettings", token: str, session: requests.Session) -> "PlexServer":
    """PlexServer for plex.url with one user's token (one GET /); TokenRefused on 401."""
    from plexapi.exceptions import Unauthorized
    from plexapi.server import PlexServer

    REDACTOR.add(token)
    try:
        return PlexServer(plex.url, token, session=session, timeout=plex.timeout_seconds)
    except Unauthorized:
        raise TokenRefused("Plex refused their token (401)") from None


def read_views(server: "PlexServer", rating_keys: Iterable[int], chunk: int = CHUNK) -> list[ViewState]:
    """The token's own view state of each movie or episode PMS lists for it, `chunk` keys per request.

    A key PMS does not list for this user (a library their share leaves out, an item gone) is simply absent.
    """
    from plexapi.exceptions import NotFound, Unauthorized

    keys = sorted(set(rating_keys))
    out: list[ViewState] = []
    for start in range(0, len(keys), chunk):
        batch = keys[start:start + chunk]
        headers = {"X-Plex-Container-Start": "0", "X-Plex-Container-Size": str(len(batch))}
        try:
            container = server.query(f"/library/metadata/{','.join(map(str, batch))}", headers=headers)
        except Unauthorized:
            raise TokenRefused("Plex refused their token (401)") from None
        except NotFound:
            continue  # none of this batch is listed for the user
        for elem in container if container is not None else ():
            state = view_state(elem)
            if state is not None:
                out.append(state)
    return out


def view_state(elem) -> ViewState | None:
    """A <Video> of a movie or an episode as a ViewState; None for anything else (never a show's own count)."""
    a = elem.attrib
    if a.get("type") not in LEAVES or not str(a.get("ratingKey", "")).isdigit():
        return None
    return ViewState(rating_key=int(a["ratingKey"]), view_count=_int(a.get("viewCount")) or 0,
                     view_offset_ms=_int(a.get("viewOffset")) or None,
                     last_viewed_at=utc_from_epoch(_int(a.get("lastViewedAt"))))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
