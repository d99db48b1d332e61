"""`invoke build`: ingest, freeze the issues that are due, and render the archive site from frozen issues."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pipeline.clock import Clock
from pipeline.stats.freeze import FreezeResult, freeze_issues
from pipeline.ingest.inbox import take_inbox
from pipeline.ingest.posters import cache_dir_for, fetch_posters
from pipeline.media.leaving import leaving_public_dated
from pipeline.render.libraries import only_libraries
from pipeline.render.site.generate import SiteResult, poster_items, render_site, snapshot_of
from pipeline.run.libraries import issue_access, public_sections
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    freeze: FreezeResult
    site: SiteResult

    def lines(self) -> list[str]:
        out = []
        if self.freeze.frozen:
            out.append(f"new issues: {', '.join(self.freeze.frozen)}")
        elif not self.freeze.skipped:
            out.append("no new issue is due; the site was rebuilt from the frozen issues")
        out += [f"skipped {line}" for line in self.freeze.skipped]
        return out + self.site.lines()


def resolve_exclusions(store: Store, settings: Settings) -> Settings:
    """Settings whose site.exclude_users also name, by id, the users an admin excluded by e-mail.

    Snapshots carry no e-mail addresses, so an address is matched against the store here.
    """
    wanted = {str(e).strip().lower() for e in settings.site.exclude_users if "@" in str(e)}
    if not wanted:
        return settings
    ids = [str(uid) for uid, email in store.execute("issues/user_emails") if email in wanted]
    site = settings.site.model_copy(update={"exclude_users": [*settings.site.exclude_users, *ids]})
    return settings.model_copy(update={"site": site})


def build_site(store: Store, settings: Settings, clock: Clock, *, period_key: str | None = None,
               rebuild: bool = False, publish: bool = False) -> BuildResult:
    """Freeze what is due, then render every frozen issue (the store is read, never Plex or Tautulli)."""
    public_sections(store, settings)  # a misnamed site.public_libraries stops the build before anything changes
    take_inbox(store, settings, clock.now())  # a reader's keep leaves the site's Leaving soon even with --no-ingest
    last = store.execute("ingest/last_successful_run")
    data_as_of = last[0][2] if last else None
    freeze = freeze_issues(store, settings, clock.now(), period_key=period_key, data_as_of=data_as_of,
                           rebuild=rebuild, require_ingest=True)
    for line in freeze.skipped:
        log.warning("issue %s", line)
    rows = store.records("issues/all_issues")
    settings = resolve_exclusions(store, settings)
    access = issue_access(store, settings, [snapshot_of(r) for r in rows])
    if access.public is not None:  # a private library's titles never reach the public archive
        rows = [{**r, "snapshot": only_libraries(snapshot_of(r), access.sections_of, access.public)} for r in rows]
    posters = None
    if settings.site.posters and settings.plex.configured and rows:
        posters = fetch_posters(poster_items(rows), settings.plex, cache_dir_for(settings.data.dir))
    # The queue as enforce (or `invoke queue`) last computed it; building never recomputes policy.
    site = render_site(settings, rows, posters=posters, publish=publish,
                       leaving=leaving_public_dated(store, settings, clock.now(), access.public),
                       leaving_as_of=clock.now())
    return BuildResult(freeze, site)
