"""The live systems one retention run talks to: Plex through plexapi, Sonarr and Radarr through their v3 APIs,
Seerr through its v1 API."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pipeline.errors import MarqueeError
from pipeline.clients.plex import connect_server, plex_errors

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store
    from pipeline.clients.arr import ArrTarget
    from pipeline.act.deletion import Deletion

log = logging.getLogger(__name__)


class Remote:
    """Plex plus whichever of Sonarr/Radarr are configured; `down` says why an app is skipped this run."""

    def __init__(self, settings: "Settings", server: Any, clients: dict[str, Any], down: dict[str, str],
                 seerr: Any = None) -> None:
        self.settings, self.server, self.clients, self.down = settings, server, clients, down
        self.seerr = seerr  # a SeerrClient when Seerr is configured (`down["seerr"]` says if it answered)
        self._shows: dict[int, dict] = {}

    def fetch(self, rating_key: int) -> Any | None:
        """The item as Plex lists it now, or None when Plex no longer has it."""
        from plexapi.exceptions import NotFound

        with plex_errors("Plex", self.settings.plex.url, self.settings.plex.token.get_secret_value()):
            try:
                return self.server.fetchItem(rating_key)
            except NotFound:
                return None

    def delete(self, item: Any) -> None:
        """DELETE /library/metadata/{rk}; the files go with it."""
        with plex_errors("Plex", self.settings.plex.url, self.settings.plex.token.get_secret_value()):
            item.delete()

    def agent_ids(self, item: Any) -> dict:
        """What Sonarr/Radarr know the item by, read before deleting so a later retry still can find it."""
        from pipeline.clients.arr import agent_ids

        ids = dict(agent_ids(item))
        if item.type == "episode":
            ids["season"], ids["episode"] = item.parentIndex, item.index
            show_key = int(item.grandparentRatingKey)
            if show_key not in self._shows:
                show = self.fetch(show_key)
                self._shows[show_key] = agent_ids(show) if show is not None else {}
            ids["show_tvdb"] = self._shows[show_key].get("tvdb")
        return ids

    def client(self, app: str) -> Any:
        return self.clients[app]

    def find(self, d: "Deletion") -> "ArrTarget | None":
        ids = d.agent_ids
        if d.app == "radarr":
            return self.clients["radarr"].find_movie(tmdb_id=ids.get("tmdb"), imdb_id=ids.get("imdb"))
        return self.clients["sonarr"].find_episode(tvdb_id=ids.get("tvdb"), show_tvdb_id=ids.get("show_tvdb"),
                                                   season=ids.get("season"), episode=ids.get("episode"))

    def close(self) -> None:
        for client in [*self.clients.values(), self.seerr]:
            close = getattr(client, "close", None)
            if close:
                close()


def connect_remote(settings: "Settings", store: "Store") -> Remote:
    """Connect to Plex (required, and the server the store describes) and health-check Sonarr/Radarr
    (a failed check skips that app's part)."""
    from pipeline.clients.arr import RadarrClient, SonarrClient
    from pipeline.act.same_server import ensure_same_server, live_identity

    if not settings.plex.configured:
        raise MarqueeError("media retention needs Plex: set PLEX_URL and PLEX_TOKEN")
    server = connect_server(settings.plex)
    ensure_same_server(store, *live_identity(server))
    clients: dict[str, Any] = {}
    down: dict[str, str] = {}
    for app, cls in (("sonarr", SonarrClient), ("radarr", RadarrClient)):
        section = getattr(settings, app)
        if not section.configured:
            continue
        clients[app] = cls(section)
        try:
            clients[app].health()
        except MarqueeError as exc:
            down[app] = f"{app.capitalize()} is down ({exc}); its part waits for the next run"
            log.warning("%s", down[app])
    seerr = None
    if settings.seerr.configured:
        from pipeline.clients.seerr import SeerrClient

        seerr = SeerrClient(settings.seerr)
        try:
            seerr.health()
        except MarqueeError as exc:
            down["seerr"] = f"Seerr is down ({exc}); its part waits for the next run"
            log.warning("%s", down["seerr"])
    return Remote(settings, server, clients, down, seerr)
