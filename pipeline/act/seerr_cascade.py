"""The cascade's last step: once Plex deleted a title, clear its media entry in Seerr so it can be requested
again and no stale "available" state stays behind. An episode clears its show's entry only with the last episode."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pipeline.act.deletion import Deletion, Step, StepFailed, save
from pipeline.errors import MarqueeError
from pipeline.store import Store


def clear_in_seerr(store: Store, remote: Any, d: Deletion, now: datetime) -> tuple[Deletion, str | None]:
    """DELETE /api/v1/media/{id} for the title's entry; (row, None) when done or not needed, else the error line."""
    if remote.seerr is None or d.seerr is not None or not d.plex_deleted:
        return d, None
    if remote.down.get("seerr"):
        return d, f"Seerr skipped: {remote.down['seerr']}"
    ids = d.agent_ids
    found = store.execute("act/seerr_entry_for", {"rating_key": d.rating_key, "tmdb_id": ids.get("tmdb"),
                                                  "show_tvdb_id": ids.get("show_tvdb")})
    if not found or found[0][1]:
        # No entry, or the show still has episodes in Plex: Seerr's own scan keeps its state right.
        d = replace(d, seerr="none", updated_at=now)
        save(store, d)
        return d, None
    media_id = int(found[0][0])
    try:
        d = Step(store, now)(d, "Seerr clear", lambda: remote.seerr.delete_media(media_id), seerr="cleared",
                             seerr_media_id=media_id)
    except StepFailed as exc:
        return d, str(exc)
    except MarqueeError as exc:
        return d, f"Seerr: {exc}"
    return d, None
