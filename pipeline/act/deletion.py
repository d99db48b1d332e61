"""Delete one movie or episode: Sonarr/Radarr first so nothing comes back, then Plex; each step recorded as it succeeds.

A run killed between two steps leaves the row saying which steps are done; the next run resumes from there
and never repeats a step that already succeeded (and every step is idempotent on the far side too).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Callable

from pipeline.errors import MarqueeError
from pipeline.store import Store

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5  # runs that may retry an unfinished deletion before it is left to the admin


@dataclass(frozen=True)
class Deletion:
    """One row of media_deletions."""

    rating_key: int
    title: str
    media_type: str  # movie | episode
    size_bytes: int | None
    started_at: datetime
    state: str = "started"  # started | partial | done | failed | relisted
    agent_ids: dict[str, Any] = field(default_factory=dict)
    arr: str | None = None  # sonarr | radarr | "none" (neither knows it) | None (not looked up yet)
    arr_id: int | None = None
    arr_unmonitored: bool = False
    arr_file_deleted: bool = False
    arr_excluded: bool = False
    plex_deleted: bool = False
    seerr: str | None = None  # None: not done yet | "cleared" | "none" (no entry there, or the show keeps episodes)
    seerr_media_id: int | None = None
    series_excluded: bool = False  # the last episode of a show: Sonarr unmonitored the series and excluded it
    attempts: int = 0
    last_error: str | None = None
    deleted_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict) -> "Deletion":
        row = dict(row)
        row["agent_ids"] = json.loads(row["agent_ids"]) if row.get("agent_ids") else {}
        return cls(**row)

    @property
    def app(self) -> str:
        return "radarr" if self.media_type == "movie" else "sonarr"

    def arr_complete(self, needs: "Needs") -> bool:
        """Every Sonarr/Radarr step this deletion needs is done (or the app does not know the item)."""
        if self.arr == "none" or not needs.app_configured:
            return True
        if self.arr is None or not self.arr_unmonitored:
            return False
        if needs.delete_files and not self.arr_file_deleted:
            return False
        return not (needs.exclusion and self.media_type == "movie" and not self.arr_excluded)

    def settle(self, needs: "Needs", error: str | None, at: datetime) -> "Deletion":
        """The state after a run's attempt: done, partial (something done, something not) or failed."""
        complete = (self.plex_deleted and self.arr_complete(needs) and (not needs.seerr or self.seerr is not None)
                    and (not needs.series or self.series_excluded))
        anything = (self.plex_deleted or self.arr_unmonitored or self.arr_file_deleted or self.arr_excluded
                    or self.series_excluded)
        state = "done" if complete else ("partial" if anything else "failed")
        return replace(self, state=state, last_error=None if complete else error, updated_at=at)


@dataclass(frozen=True)
class Needs:
    """Which cascade steps the settings ask for, for this item's app."""

    app_configured: bool
    delete_files: bool
    exclusion: bool
    seerr: bool = False  # Seerr is configured: its entry is cleared after the Plex delete
    series: bool = False  # the show's last episode and retention.series_exclusion: Sonarr's series step


def save(store: Store, d: Deletion) -> None:
    """Write the row now (its own statement, committed at once)."""
    params = asdict(d)
    params["agent_ids"] = json.dumps(d.agent_ids, sort_keys=True)
    params["updated_at"] = d.updated_at or d.started_at
    store.execute("act/media_deletion_save", params)


def load_all(store: Store) -> dict[int, Deletion]:
    return {r["rating_key"]: Deletion.from_row(r) for r in store.records("act/media_deletions_all")}


def describe_failure(d: Deletion, error: str | None) -> str:
    """Say what happened in one line, e.g. "Plex deleted, Sonarr unreachable"."""
    app = d.app.capitalize()
    done = []
    if d.arr_unmonitored:
        done.append(f"{app} unmonitored")
    if d.arr_file_deleted:
        done.append(f"{app} file deleted")
    if d.arr_excluded:
        done.append("Radarr exclusion added")
    if d.plex_deleted:
        done.append("Plex deleted")
    if d.seerr == "cleared":
        done.append("Seerr cleared")
    if d.series_excluded:
        done.append("Sonarr series unmonitored and excluded")
    head = ", ".join(done) if done else "nothing done"
    return f"{head}; {error}" if error else head


class Step:
    """Runs one step: on success saves the row with the step's flag; on failure raises with the step named."""

    def __init__(self, store: Store, now: datetime) -> None:
        self.store, self.now = store, now

    def __call__(self, d: Deletion, what: str, fn: Callable[[], Any], **flags: Any) -> Deletion:
        try:
            fn()
        except MarqueeError as exc:
            raise StepFailed(what, str(exc)) from None
        d = replace(d, **flags, updated_at=self.now)
        save(self.store, d)
        log.debug("deletion %s: %s done", d.rating_key, what)
        return d


class StepFailed(Exception):
    def __init__(self, step: str, error: str) -> None:
        super().__init__(f"{step}: {error}")
        self.step, self.error = step, error
