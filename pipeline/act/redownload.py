"""Stop re-download: once Plex deleted a title, what would bring it back is stopped (a whole series, with
retention.series_exclusion) or told to the admin (an open Seerr request; a series Sonarr still monitors)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pipeline.act.deletion import Deletion, Step, StepFailed, save
from pipeline.errors import MarqueeError
from pipeline.settings import Settings
from pipeline.store import Store

STATES = {1: "waiting for approval", 2: "approved"}


def whole_series(store: Store, d: Deletion) -> str | None:
    """The show's title when this deleted episode was the last of its show that Plex lists; else None."""
    if d.media_type != "episode" or not d.plex_deleted:
        return None
    rows = store.execute("act/show_left_in_plex", {"rating_key": d.rating_key})
    return str(rows[0][1] or d.title) if rows and rows[0][2] == 0 else None


def series_needed(store: Store, settings: Settings, d: Deletion) -> bool:
    """Whether the deletion is complete only once Sonarr's series step is done (never without a TVDB id to find
    the series by: stop_series warns instead)."""
    return bool(settings.retention.series_exclusion and settings.sonarr.configured and d.agent_ids.get("show_tvdb")
                and whole_series(store, d))


def stop_series(store: Store, settings: Settings, remote: Any, d: Deletion,
                now: datetime) -> tuple[Deletion, str | None, list[str]]:
    """The last episode of a show gone: unmonitor the series and exclude it from Sonarr's import lists (setting on),
    or warn while Sonarr still monitors it. Returns (row, error line or None, warnings)."""
    show = whole_series(store, d)
    if show is None or d.series_excluded or not settings.sonarr.configured:
        return d, None, []
    act = settings.retention.series_exclusion
    if remote.down.get("sonarr"):
        return d, (f"Sonarr series step skipped: {remote.down['sonarr']}" if act else None), []
    if not d.agent_ids.get("show_tvdb"):  # Sonarr knows series by TVDB id: without it, "not in Sonarr" is a guess
        return d, None, [f"{show}: Marquee deleted its last episode, but Plex gives the show no TVDB id, so Marquee "
                         "cannot find it in Sonarr; check that Sonarr does not monitor it"]
    client = remote.client("sonarr")
    try:
        series = client.find_series(d.agent_ids.get("show_tvdb"))
        if series is None:  # Sonarr does not have it: nothing to grab it again
            if act:
                d = replace(d, series_excluded=True, updated_at=now)
                save(store, d)
            return d, None, []
        if not act:
            if not series.get("monitored"):
                return d, None, []
            return d, None, [f"{show}: Marquee deleted its last episode, but Sonarr still monitors the series, so it "
                             "downloads new (and missing) episodes again; unmonitor it in Sonarr, or set "
                             "retention.series_exclusion = true"]

        def exclude() -> None:
            client.unmonitor_series(int(series["id"]))
            client.add_series_exclusion(int(series["tvdbId"]), str(series.get("title") or show))

        d = Step(store, now)(d, "Sonarr series exclusion", exclude, series_excluded=True)
    except StepFailed as exc:
        return d, str(exc), []
    except MarqueeError as exc:
        return d, f"Sonarr: {exc}", []
    return d, None, []


def open_requests(store: Store, deleted: list[Deletion]) -> list[str]:
    """A warning per Seerr request still open for titles this run deleted, naming them; read after the whole run,
    so a request whose entry a later deletion cleared (the show's last episode) is not one."""
    titles: dict[tuple, list[str]] = {}
    for d in deleted:
        # "cleared" took the requests with it; None: Seerr is not set, or its step is still to do (and will clear)
        if not d.plex_deleted or d.seerr != "none":
            continue
        ids = d.agent_ids
        for rid, status, who in store.execute("act/open_requests_for", {
                "rating_key": d.rating_key, "tmdb_id": ids.get("tmdb"), "show_tvdb_id": ids.get("show_tvdb"),
                "season": ids.get("season") if d.media_type == "episode" else None}):
            titles.setdefault((rid, status, who), []).append(d.title)
    return [f"{', '.join(names)}: Seerr still has request #{rid} ({STATES.get(status, 'open')}, by {who}), so "
            f"{'it' if len(names) == 1 else 'they'} may be downloaded again; decline or delete the request in Seerr"
            for (rid, status, who), names in sorted(titles.items())]
