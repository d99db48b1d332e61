"""Read the store (and retention.toml's rules) into the pure media policy's inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.errors import ConfigError
from pipeline.policy.media import Assignment, Keep, MediaItem, Rule, Watch
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.media.config import load_retention


@dataclass
class MediaInputs:
    """Everything policy.media.queue needs, as of one moment."""

    items: list[MediaItem]
    assignments: list[Assignment]
    watches: list[Watch]  # the last watch of each assigned user on each item assigned to them
    keeps: list[Keep]
    rules: list[Rule]
    names: dict[int, str]  # user_id -> friendly name
    first_queued_at: dict[int, datetime]
    # rating_key -> (Plex's own title, the show's title for an episode): media_queue stores these
    plain_titles: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    noticed: dict[tuple[int, int], datetime] = field(default_factory=dict)  # (user, item) -> notice sent at
    viewers: dict[int, list[int]] = field(default_factory=dict)  # item -> who played it lately or part-watched it
    unreachable: set[int] = field(default_factory=set)  # readers without an e-mail address
    # assignees whose own watch state Plex could not give at the last ingest: (name, why); counted as not watched
    watch_unread: list[tuple[str, str]] = field(default_factory=list)

    def watch_unread_line(self) -> str | None:
        """One line naming the assignees Plex's watch state was not read for, or None."""
        if not self.watch_unread:
            return None
        by_reason: dict[str, list[str]] = {}
        for name, why in self.watch_unread:
            by_reason.setdefault(why, []).append(name)
        who = "; ".join(f"{', '.join(names)} ({why})" for why, names in by_reason.items())
        return f"Plex watch state not read for {who}: counted as not watched per Plex"


def load_rules(store: Store, settings: Settings) -> list[Rule]:
    """retention.toml's rules; a rule naming a library Plex does not have is an error, not a silent no-op."""
    file = load_retention(settings.retention.file)
    libraries = [r[0] for r in store.execute("media/library_titles")]
    known = {t.casefold() for t in libraries if t}
    for n, rule in enumerate(file.rules, 1):
        if rule.library is not None and known and rule.library.casefold() not in known:
            raise ConfigError(f"{file.path} [[rule]] #{n} ({rule.name!r}): library {rule.library!r} is not a Plex "
                              f"library (libraries: {', '.join(libraries)})")
    return list(file.rules)


def watches(store: Store, settings: Settings) -> list[Watch]:
    """The assignees' watches from the sources retention.watch_sources names, and their "I'm done with it"."""
    sources = settings.retention.watch_sources
    out = [Watch(*row, "done") for row in store.execute("media/done_watches")]
    if "tautulli" in sources:
        out += [Watch(*row, "tautulli") for row in store.execute("media/assigned_watches")]
    if "plex" in sources:
        out += [Watch(*row, "plex") for row in store.execute("media/plex_watches")]
    return out


def media_inputs(store: Store, settings: Settings, now: datetime) -> MediaInputs:
    """Items (removed ones with exists=False), merged assignments, watches, keeps, rules, names, first_queued_at.

    Reads media_assignments as stored: refresh_queue syncs the file and label sources first.
    """
    items, plain_titles = [], {}
    for (rating_key, type_, show_key, title, size, added_at, labels, collections, listed, deleted_at,
         last_played_at, library, plain_title, show_title) in store.execute("media/media_items"):
        items.append(MediaItem(
            rating_key=rating_key, type=type_, show_rating_key=show_key, title=title, size_bytes=size,
            added_at=added_at, labels=frozenset(labels), collections=frozenset(collections), exists=listed,
            deleted_by_us_at=deleted_at, last_played_at=last_played_at, library=library))
        plain_titles[rating_key] = (plain_title, show_title)
    return MediaInputs(
        items=items,
        assignments=[Assignment(*row) for row in store.execute("media/assignments_merged")],
        watches=watches(store, settings),
        keeps=[Keep(*row) for row in store.execute("media/keeps_all")],
        rules=load_rules(store, settings),
        names=dict(store.execute("media/user_names")),
        first_queued_at=dict(store.execute("media/queue_first_queued")),
        plain_titles=plain_titles,
        noticed={(u, k): at for u, k, at in store.execute("media/notices_sent")},
        viewers=dict(store.execute(
            "media/recent_viewers", {"since": now - timedelta(days=settings.retention.notice_recent_days)})),
        unreachable={r[0] for r in store.execute("media/unreachable_users")},
        watch_unread=[(name, why) for _, name, why in store.execute("media/watch_unread")]
        if "plex" in settings.retention.watch_sources else [],
    )
