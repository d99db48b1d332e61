"""Build the archive site from frozen issue snapshots with Pelican.

Pelican never sees the store: render_site() writes one content file per issue (its public data
only, see issue_view.py and privacy.py) into a staging folder under <data.dir>/site/, runs
Pelican there, checks the result for secrets, then copies into site.output_dir only the files
whose bytes changed. Unchanged issues keep their files and mtimes, so Pelican's content cache
makes adding one issue cheap.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from pipeline.errors import ConfigError, MarqueeError
from pipeline.settings import Settings
from pipeline.stats.issue import SCHEMA_VERSION
from pipeline.text import clean_text, clean_tree, safe_url
import pipeline.render.site.assets as assets
from pipeline.render.issue_view import DAYS, MONTHS, issue_view, namer_for
from pipeline.render.year_view import public_graph, year_view
from pipeline.policy.media import PUBLIC_WINDOW_DAYS

log = logging.getLogger(__name__)

PUBLIC_ROWS = 24  # the home page's "Leaving soon" shows this many titles, then "and N more"
ROOT = Path(__file__).resolve().parents[3]  # the project: pelicanconf.py, theme/, content/pages/
SUFFIX = ".issue"  # read by pipeline/render/site/pelican_issues.py


@dataclass
class SiteResult:
    """What one build did; paths are relative to output_dir."""

    output_dir: Path
    issues: list[str]                                  # issue keys on the site, oldest first
    pages: dict[str, str] = field(default_factory=dict)  # issue key -> page path, e.g. issues/2026-w46/index.html
    written: list[str] = field(default_factory=list)   # created or changed in output_dir
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [f"site: {len(self.issues)} issues in {self.output_dir}",
                f"files: {len(self.written)} written, {len(self.removed)} removed, {self.unchanged} unchanged",
                f"took {self.seconds:.1f}s"]


def snapshot_of(item: Mapping[str, Any]) -> dict:
    """An issue as the store hands it over (a row with a JSON `snapshot`) or the snapshot itself."""
    snap = item.get("snapshot", item)
    if isinstance(snap, (str, bytes)):
        snap = json.loads(snap)
    if not isinstance(snap, Mapping) or "period" not in snap:
        raise MarqueeError(f"issue {item.get('issue_key', '?')}: not an issue snapshot (no period)")
    version = snap.get("schema_version", SCHEMA_VERSION)
    if version > SCHEMA_VERSION:
        raise MarqueeError(f"issue {snap.get('issue_key', '?')} has snapshot schema {version}, newer than this "
                           f"Marquee renders ({SCHEMA_VERSION}); upgrade Marquee")
    # A snapshot frozen before ingest cleaned titles may hold control characters: XML feeds refuse them.
    return clean_tree(dict(snap))


def slug_of(snapshot: Mapping[str, Any]) -> str:
    """'2026-w46', '2026-10', '2026': the period key, which is unique within one site."""
    return str(snapshot["period"]["key"]).lower()


def poster_items(issues: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Every {rating_key, thumb} the issues show a poster for: what render.images.fetch_posters takes."""
    items: dict[Any, dict] = {}
    for item in issues:
        snap = snapshot_of(item)
        rows = list((snap.get("added") or {}).get("items") or [])
        for group in (snap.get("top") or {}).values():
            rows += list((group or {}).get("by_plays") or [])
        rows += list(snap.get("community_watchlist") or [])
        for row in rows:
            if row.get("rating_key") is not None and row.get("thumb"):
                items.setdefault(row["rating_key"], {"rating_key": row["rating_key"], "thumb": row["thumb"]})
    return list(items.values())


def site_name(settings: Settings) -> str:
    return settings.site.title.strip() or f"{settings.server.name} newsletter"


def _feed_html(view: Mapping[str, Any], server: str) -> tuple[str, str]:
    """(content, summary) for the feeds: short, plain HTML, every value escaped."""
    noun = view["noun"]
    if view["empty"]:
        summary = escape(f"Nothing new this {noun}: no plays and nothing added.")
        return str(Markup("<p>{}</p>").format(summary)), str(summary)
    summary = escape(f"{view['plays']:,} plays and {view['hours']} hours watched by "
                     f"{view['viewers']:,} {'viewer' if view['viewers'] == 1 else 'viewers'}, {view['span']}.")
    parts = [Markup("<p>{}</p>").format(summary)]
    if view["added"]:
        titles = [i["title"] for g in view["added"]["groups"] for i in g["items"]][:8]
        parts.append(Markup("<p><strong>New on {}:</strong> {}</p>").format(server, view["added"]["line"]))
        parts.append(Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(t) for t in titles)))
    for group in view["top"]:
        first = group["items"][0]
        parts.append(Markup("<p><strong>Top {}:</strong> {} ({})</p>").format(
            group["name"].lower(), first["title"], first["plays"]))
    return str(Markup("\n").join(parts)), str(summary)


def _content_file(snapshot: Mapping[str, Any], view: dict, server: str) -> bytes:
    period = snapshot["period"]
    content, summary = _feed_html(view, server)
    doc = {"title": period.get("label") or view["heading"], "slug": slug_of(snapshot),
           "date": period["last_day"], "summary_html": summary, "content_html": content, "issue": view}
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def _stage_pages(pages_dir: Path, content_dir: Path) -> set[Path]:
    kept = set()
    if pages_dir.is_dir():
        for src in sorted(pages_dir.rglob("*")):
            if src.is_file() and not src.name.startswith("."):
                dest = content_dir / "pages" / src.relative_to(pages_dir)
                assets.write_if_changed(dest, src.read_bytes())
                kept.add(dest)
    return kept


def _asset_version(theme: Path) -> str:
    data = b"".join(p.relative_to(theme).as_posix().encode() + p.read_bytes()
                    for p in sorted((theme / "static").rglob("*")) if p.is_file())
    return assets.digest(data, 10)


def _reader_version() -> str:
    """Pelican caches what the reader returned, keyed by file only: a new reader needs a new cache."""
    return assets.digest(Path(__file__).with_name("pelican_issues.py").read_bytes(), 10)


def _leaving_day(value: Any) -> tuple[str, str]:
    """(ISO date, 'Friday 4 Dec') of the day a title leaves; ('', '') when the row has none."""
    if not value:
        return "", ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return day.isoformat(), f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def _as_of(at: datetime | None, zone: str) -> str:
    """'Thursday 3 Dec, 18:30': when the queue the list comes from was true, in the server's zone; '' unknown."""
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(zone))
    return f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}, {local:%H:%M}"


def _leaving_context(leaving: Iterable[Mapping[str, Any]] | None, as_of: str = "", links: bool = True) -> dict:
    """The home page's "Leaving soon" list, by the day each title leaves: title, year, detail, that day and its
    Plex link only."""
    rows = [{"title": clean_text(str(r.get("title") or "Untitled")), "year": r.get("year"),
             "detail": clean_text(str(r.get("detail") or "")), "on": _leaving_day(r.get("leaving_on")),
             "plex": safe_url(r.get("plex")) if links else ""}
            for r in leaving or ()]
    days: list[dict] = []
    for row in rows[:PUBLIC_ROWS]:  # soonest first already: consecutive rows share a day
        iso, label = row.pop("on")
        if not days or days[-1]["on"] != iso:
            days.append({"on": iso, "label": label, "items": []})
        days[-1]["items"].append(row)
    return {"LEAVING_SOON": days, "LEAVING_SOON_MORE": max(0, len(rows) - PUBLIC_ROWS),
            "LEAVING_SOON_DAYS": PUBLIC_WINDOW_DAYS, "LEAVING_SOON_AS_OF": as_of}


def _pelican_settings(settings: Settings, stage: Path, theme: Path, publish: bool,
                      leaving: Iterable[Mapping[str, Any]] | None = None,
                      leaving_as_of: datetime | None = None) -> dict:
    from pelican.settings import read_settings

    siteurl = settings.site.siteurl.rstrip("/")
    if publish and not siteurl:
        raise ConfigError("site.siteurl: set the archive's public URL (e.g. https://news.example.org) to publish")
    conf = ROOT / ("publishconf.py" if publish else "pelicanconf.py")
    override = {
        "PATH": str(stage / "content"), "OUTPUT_PATH": str(stage / "build"), "THEME": str(theme),
        "CACHE_PATH": str(stage / "cache" / _reader_version()), "PLUGIN_PATHS": [str(ROOT)],
        "SITENAME": site_name(settings), "AUTHOR": site_name(settings), "SITEURL": siteurl, "FEED_DOMAIN": siteurl,
        "TIMEZONE": settings.server.timezone, "ASSET_VERSION": _asset_version(theme),
        "PUBLIC_URL": siteurl, "SERVER_NAME": settings.server.name,
        # images/ is synced by us (content-hashed, copied once); the build folder is throwaway
        "STATIC_PATHS": [], "DELETE_OUTPUT_DIRECTORY": True,
        **_leaving_context(leaving, _as_of(leaving_as_of, settings.server.timezone), settings.site.plex_links),
    }
    plog = logging.getLogger("pelican")
    level = plog.level
    if not siteurl:
        plog.setLevel(logging.ERROR)  # "Feeds generated without SITEURL": expected for a local build
    try:
        return read_settings(str(conf), override=override)
    finally:
        plog.setLevel(level)


class _Collect(logging.Handler):
    """Pelican logs a broken file and carries on; keep its warnings so the build can fail loudly."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _run_pelican(pconf: dict) -> None:
    from pelican import Pelican

    handler = _Collect()
    plog = logging.getLogger("pelican")
    level = plog.level
    plog.addHandler(handler)
    if not log.isEnabledFor(logging.DEBUG):
        plog.setLevel(logging.WARNING)  # one line per written file is noise for an admin
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):  # Pelican prints a "Done: ..." line of its own
            Pelican(pconf).run()
    finally:
        plog.removeHandler(handler)
        plog.setLevel(level)
    log.debug(out.getvalue().strip())
    errors = [r for r in handler.records if r.levelno >= logging.ERROR]
    for record in handler.records:
        log.warning("pelican: %s", record.getMessage())
    if errors:
        raise MarqueeError(f"site: Pelican failed: {errors[0].getMessage().splitlines()[0]}")


def _needles(settings: Settings) -> list[str]:
    """Strings that must never appear in the public site."""
    found = list(settings.secrets()) + ["X-Plex-Token"]
    for url in (settings.plex.url, settings.tautulli.url):
        if url:
            found.append(url.split("://", 1)[-1])  # host:port, with or without the scheme
    return [n for n in found if n]


def leak_check(files: Iterable[Path], settings: Settings) -> None:
    """Refuse to publish a site that contains a token, an API key or a server URL."""
    needles = [n.encode() for n in _needles(settings)]
    for path in files:
        if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".gif"):
            continue
        data = path.read_bytes()
        for needle in needles:
            if needle in data:
                raise MarqueeError(f"site: {path.name} would publish a secret or a server URL; nothing was "
                                   "copied to output (report this as a bug)")


def _sources(build: Path, content: Path, extra_dir: Path,
             extra: Mapping[str, Path | bytes] | None) -> dict[str, Path]:
    """Everything output_dir must hold: Pelican's pages, the staged images, and any extra files."""
    sources = {p.relative_to(build).as_posix(): p for p in build.rglob("*") if p.is_file()}
    images = content / "images"
    if images.is_dir():
        sources.update({p.relative_to(content).as_posix(): p for p in images.rglob("*") if p.is_file()})
    kept = set()
    for rel, data in (extra or {}).items():
        rel = Path(rel).as_posix().lstrip("/")
        if ".." in Path(rel).parts:
            raise MarqueeError(f"site: extra file {rel!r} would be written outside the site")
        if rel in sources:
            if rel.startswith("images/"):
                continue  # a content-hashed name the site already ships: the same file
            raise MarqueeError(f"site: extra file {rel!r} would replace one of the site's own files")
        if isinstance(data, (bytes, bytearray)):
            assets.write_if_changed(extra_dir / rel, bytes(data))
            data = extra_dir / rel
        kept.add(Path(data))
        sources[rel] = Path(data)
    assets.prune(extra_dir, kept)
    return sources


def render_site(settings: Settings, issues: Iterable[Mapping[str, Any]], *,
                posters: Mapping[Any, Any] | None = None, charts_dir: Path | None = None,
                publish: bool = False, pages_dir: Path | None = None, theme_dir: Path | None = None,
                extra: Mapping[str, Path | bytes] | None = None,
                leaving: Iterable[Mapping[str, Any]] | None = None,
                leaving_as_of: datetime | None = None) -> SiteResult:
    """Build the archive from frozen issues into settings.site.output_dir; return what changed.

    issues: snapshots, or rows of the `issues` table (their `snapshot` column is used).
    posters: rating_key -> PosterFile from render.images.fetch_posters (None: placeholders only).
    charts_dir: where rendered charts are cached per issue (default <data.dir>/site/charts).
    publish: absolute URLs from site.siteurl (publishconf.py) instead of relative links.
    pages_dir / theme_dir: the admin's pages and the theme (default: content/pages/ and theme/).
    extra: more files to publish, site path -> file or bytes (e.g. images an e-mail links to).
    leaving: the home page's "Leaving soon" list, from media.leaving.leaving_public_dated (None or empty: none).
    leaving_as_of: when that list was true (the page says so: enforce can move a date later or drop a title).
    """
    began = time.monotonic()
    stage = Path(settings.data.dir).resolve() / "site"  # absolute: Pelican reads a relative PATH from ROOT
    content = stage / "content"
    theme = Path(theme_dir or ROOT / "theme")
    charts_dir = Path(charts_dir or stage / "charts")
    snapshots = {}
    for item in issues:
        snap = snapshot_of(item)
        snapshots[slug_of(snap)] = snap
    ordered = sorted(snapshots.values(), key=lambda s: (s["period"].get("start", ""), slug_of(s)))

    keep = set(_stage_pages(Path(pages_dir or ROOT / "content" / "pages"), content))
    refs, poster_files = assets.poster_refs(posters)
    used: set[str] = set()
    for snap in ordered:
        slug = slug_of(snap)
        namer = namer_for(snap, settings.site.names, settings.site.exclude_users)
        charts = assets.chart_refs(assets.issue_charts(snap, charts_dir, public_graph(snap, namer)), content, slug)
        keep |= {content / c["src"] for c in charts.values()}
        shown = snap if settings.site.plex_links else {k: v for k, v in snap.items() if k != "plex"}
        view = issue_view(shown, namer, posters=refs, charts=charts)
        year = year_view(snap, charts)
        if year:
            view["year"] = year
        used |= assets.used_images(view)
        path = content / "issues" / f"{slug}{SUFFIX}"
        assets.write_if_changed(path, _content_file(snap, view, settings.server.name))
        keep.add(path)
    keep |= assets.stage_images(poster_files, used, content)
    assets.prune(content, keep)

    _run_pelican(_pelican_settings(settings, stage, theme, publish, leaving, leaving_as_of))
    build = stage / "build"
    pages = {s.get("issue_key") or slug_of(s): f"issues/{slug_of(s)}/index.html" for s in ordered}
    missing = [key for key, page in pages.items() if not (build / page).is_file()]
    if missing:
        raise MarqueeError(f"site: issue {missing[0]} was not rendered (run with --verbose to see why)")

    sources = _sources(build, content, stage / "extra", extra)
    leak_check(sources.values(), settings)
    out = Path(settings.site.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, removed, unchanged = assets.sync_tree(sources, out, stage / "output-manifest.json")
    return SiteResult(out, [s.get("issue_key", slug_of(s)) for s in ordered], pages, written, removed,
                      unchanged, time.monotonic() - began)
