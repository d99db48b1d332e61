"""Who may see which library's titles: each reader from their plex.tv share, the public site from site.public_libraries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from pipeline.errors import ConfigError
from pipeline.render.libraries import title_keys
from pipeline.settings import Settings
from pipeline.store import Store


@dataclass(frozen=True)
class Access:
    """The library of each title in an issue, and the libraries each reader may see (None: all of them)."""

    sections_of: dict[int, int]
    readers: dict[int, frozenset[int] | None] = field(default_factory=dict)
    public: frozenset[int] | None = None

    def of(self, user_id: int | None) -> frozenset[int] | None:
        """A Plex user's libraries; anyone else (an extra address, a user without a share read) sees the public ones."""
        if user_id is not None and user_id in self.readers:
            return self.readers[user_id]
        return self.public


def public_sections(store: Store, settings: Settings) -> frozenset[int] | None:
    """The section ids site.public_libraries names (None: every library, "*"); an unknown name is a ConfigError."""
    wanted = [name for name in settings.site.public_libraries if name.strip()]
    if "*" in wanted:
        return None
    by_title = {str(title).casefold(): sid for sid, title in store.execute("readers/section_titles")}
    unknown = [name for name in wanted if name.strip().casefold() not in by_title]
    if unknown:
        raise ConfigError(f"site.public_libraries names {unknown[0]!r}, which Plex does not have (libraries: "
                          f"{', '.join(sorted(t for _, t in store.execute('readers/section_titles'))) or 'none'}); "
                          "fix the name, or run `invoke ingest` if the library is new")
    return frozenset(by_title[name.strip().casefold()] for name in wanted)


def issue_access(store: Store, settings: Settings, snapshots: list[Mapping[str, Any]]) -> Access:
    """What the issues' titles are and who may see them."""
    keys = sorted({k for s in snapshots for k in title_keys(s)})
    sections_of = dict(store.execute("readers/title_sections", {"rating_keys": keys}))
    readers: dict[int, frozenset[int] | None] = {}
    for user_id, everything, section_ids in store.execute("readers/reader_sections"):
        if everything:
            readers[user_id] = None
        elif section_ids is not None:
            readers[user_id] = frozenset(section_ids)
    return Access(sections_of, readers, public_sections(store, settings))
