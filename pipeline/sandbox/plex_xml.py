"""XML shapes the Plex sandbox serves: one function per element, attribute names as PMS spells them."""

from __future__ import annotations

import re
import uuid
from xml.etree.ElementTree import Element, SubElement, tostring

from pipeline.sandbox.world import Item, Section, World

XML = "application/xml; charset=utf-8"  # the charset spares requests a slow guess at the encoding
LEAF_TYPES = {"movie", "episode", "track"}
SECTION_AGENTS = {
    "movie": ("tv.plex.agents.movie", "Plex Movie", "movie"),
    "show": ("tv.plex.agents.series", "Plex TV Series", "show"),
    "artist": ("tv.plex.agents.music", "Plex Music", "artist"),
    "photo": ("com.plexapp.agents.none", "Plex Photo Scanner", "photo"),
}
# Characters XML 1.0 cannot carry at all; PMS never emits them, so neither do we.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def text(value: object) -> str:
    return _INVALID.sub("", value) if isinstance(value, str) else str(value)


def element(tag: str, parent: Element | None = None, /, **attrs: object) -> Element:
    """An element whose None attributes are left out (PMS omits unknown values)."""
    clean = {k: text(v) for k, v in attrs.items() if v is not None}
    return Element(tag, clean) if parent is None else SubElement(parent, tag, clean)


def render(root: Element) -> bytes:
    return tostring(root, encoding="utf-8", xml_declaration=True)


def fragment(el: Element) -> bytes:
    """One element's bytes, no declaration, for splicing into a container."""
    return tostring(el, encoding="unicode").encode("utf-8")


def render_with(root: Element, children: list[bytes]) -> bytes:
    """The container `root` (which must have no children yet) wrapped around pre-rendered children."""
    head = render(root)
    assert head.endswith(b" />"), "container must be empty"
    return b"".join([head[:-3], b">", *children, b"</", root.tag.encode(), b">"])


def flag(value: bool) -> str:
    return "1" if value else "0"


def section_uuid(world: World, section_id: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"plex://{world.machine_identifier}/section/{section_id}"))


def section_directory(world: World, section: Section, created_at: int, changed_at: str) -> Element:
    agent, scanner, _ = SECTION_AGENTS.get(section.type, SECTION_AGENTS["movie"])
    d = element(
        "Directory", allowSync="1", art=f"/:/resources/{section.type}-fanart.jpg",
        composite=f"/library/sections/{section.section_id}/composite/{section.updated_at}",
        filters="1", refreshing="0", thumb=f"/:/resources/{section.type}.png",
        key=section.section_id, type=section.type, title=section.title, agent=agent, scanner=scanner,
        language="en-US", uuid=section_uuid(world, section.section_id), updatedAt=section.updated_at,
        createdAt=created_at, scannedAt=section.updated_at, content="1", directory="1",
        contentChangedAt=changed_at, hidden="0")
    element("Location", d, id=section.section_id, path=section.location)
    return d


def _media(parent: Element, item: Item) -> None:
    """<Media><Part/></Media>: where a leaf's file and size live."""
    duration = item.duration_ms
    bitrate = None
    if item.size_bytes and duration:
        bitrate = int(item.size_bytes * 8 / duration)  # kbit/s, as PMS reports it
    path = item.file or f"/data/media/{item.rating_key}.mkv"
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else "mkv"
    if item.type == "track":
        media = element("Media", parent, id=item.rating_key, duration=duration, bitrate=bitrate,
                        audioChannels="2", audioCodec=ext if ext in ("flac", "mp3", "aac") else "flac",
                        container=ext)
    else:
        media = element("Media", parent, id=item.rating_key, duration=duration, bitrate=bitrate,
                        width="1920", height="1080", aspectRatio="1.78", audioChannels="6", audioCodec="eac3",
                        videoCodec="h264", videoResolution="1080", container=ext, videoFrameRate="24p",
                        videoProfile="high")
    element("Part", media, id=item.rating_key, key=f"/library/parts/{item.rating_key}/{item.updated_at}/file.{ext}",
            duration=duration, file=path, size=item.size_bytes, container=ext)


def agent_guids(item: Item) -> list[str]:
    """The <Guid id=...> values the new Plex agents attach, in PMS's order (imdb, tmdb, tvdb)."""
    ids = [f"imdb://{item.imdb_id}" if item.imdb_id else None, f"tmdb://{item.tmdb_id}" if item.tmdb_id else None,
           f"tvdb://{item.tvdb_id}" if item.tvdb_id else None]
    return [i for i in ids if i]


def item_element(world: World, item: Item, *, child_count: int | None = None, leaf_count: int | None = None,
                 views: tuple[int, int, int | None] | None = None, viewed_leaves: int = 0,
                 guids: bool = True) -> Element:
    """One metadata item as /all, /children, /allLeaves and /library/metadata show it.

    views: the token's own (viewCount, viewOffset ms, lastViewedAt); viewed_leaves: its viewedLeafCount.
    guids: add the agents' <Guid> children. PMS always does on /library/metadata/{rk} and in listings
    only with includeGuids=1, which plexapi sends on every listing it builds.
    """
    section = next((s for s in world.sections if s.section_id == item.section_id), None)
    tag = {"movie": "Video", "episode": "Video", "track": "Track"}.get(item.type, "Directory")
    rk = item.rating_key
    key = f"/library/metadata/{rk}" if item.type in LEAF_TYPES else f"/library/metadata/{rk}/children"
    attrs: dict[str, object] = dict(
        ratingKey=rk, key=key, guid=item.guid, type=item.type, title=item.title,
        titleSort=item.title, summary="", index=item.index, year=item.year, thumb=item.thumb,
        art=f"/library/metadata/{rk}/art/{item.updated_at}", duration=item.duration_ms,
        addedAt=item.added_at, updatedAt=item.updated_at,
        librarySectionID=item.section_id, librarySectionKey=f"/library/sections/{item.section_id}",
        librarySectionTitle=section.title if section else None)
    if item.parent_rating_key is not None:
        attrs.update(parentRatingKey=item.parent_rating_key, parentKey=f"/library/metadata/{item.parent_rating_key}",
                     parentTitle=item.parent_title, parentIndex=item.parent_index,
                     parentThumb=f"/library/metadata/{item.parent_rating_key}/thumb/{item.updated_at}")
    if item.grandparent_rating_key is not None:
        gp = item.grandparent_rating_key
        attrs.update(grandparentRatingKey=gp, grandparentKey=f"/library/metadata/{gp}",
                     grandparentTitle=item.grandparent_title,
                     grandparentThumb=f"/library/metadata/{gp}/thumb/{item.updated_at}")
    if item.type in ("show", "artist"):
        attrs.update(childCount=child_count or 0, leafCount=leaf_count or 0, viewedLeafCount=viewed_leaves)
    elif item.type in ("season", "album"):
        attrs.update(leafCount=leaf_count or 0, viewedLeafCount=viewed_leaves)
    elif views:
        # PMS leaves out viewCount for an unwatched item and viewOffset for one not started.
        count, offset, last = views
        attrs.update(viewCount=count or None, viewOffset=offset or None, lastViewedAt=last)
    el = element(tag, **attrs)
    if item.type in LEAF_TYPES:
        _media(el, item)
    if guids:
        for guid in agent_guids(item):
            element("Guid", el, id=guid)
    for i, genre in enumerate(item.genres):
        element("Genre", el, id=3000 + i, tag=genre)
    for i, label in enumerate(item.labels):
        element("Label", el, id=1000 + i, tag=label)
    for i, name in enumerate(getattr(item, "collections", ()) or ()):
        element("Collection", el, id=2000 + i, tag=name)
    return el


def history_element(world: World, item: Item | None, *, history_id: int, viewed_at: int, account_id: int,
                    device_id: int) -> Element:
    """A /status/sessions/history/all row; a deleted item comes back without ratingKey or key."""
    common = dict(historyKey=f"/status/sessions/history/{history_id}", viewedAt=viewed_at,
                  accountID=account_id, deviceID=device_id)
    if item is None:
        return element("Video", type="movie", title="", **common)
    tag = "Track" if item.type == "track" else "Video"
    attrs: dict[str, object] = dict(
        key=f"/library/metadata/{item.rating_key}", ratingKey=item.rating_key,
        librarySectionID=item.section_id, type=item.type, title=item.title, index=item.index,
        parentIndex=item.parent_index, thumb=item.thumb)
    if item.parent_rating_key is not None:
        attrs.update(parentKey=f"/library/metadata/{item.parent_rating_key}",
                     parentRatingKey=item.parent_rating_key, parentTitle=item.parent_title)
    if item.grandparent_rating_key is not None:
        attrs.update(grandparentKey=f"/library/metadata/{item.grandparent_rating_key}",
                     grandparentRatingKey=item.grandparent_rating_key, grandparentTitle=item.grandparent_title)
    return element(tag, **attrs, **common)


def server_root(world: World, *, allow_media_deletion: bool, sessions: int = 0) -> Element:
    owner = world.owner
    root = element(
        "MediaContainer", size="0", allowCameraUpload="1", allowChannelAccess="1",
        allowMediaDeletion=flag(allow_media_deletion), allowSharing="1", allowSync="1", allowTuners="1",
        backgroundProcessing="1", certificate="1", companionProxy="1", countryCode="usa",
        diagnostics="logs,databases,streaminglogs", eventStream="1", friendlyName=world.server_name,
        hubSearch="1", itemClusters="1", livetv="7", machineIdentifier=world.machine_identifier,
        mediaProviders="1", multiuser="1", musicAnalysis="2", myPlex="1", myPlexMappingState="mapped",
        myPlexSigninState="ok", myPlexSubscription="1", myPlexUsername=owner.email or owner.username,
        offlineTranscode="1", ownerFeatures="home,pass,sync,webhooks", photoAutoTag="1", platform="Linux",
        platformVersion="6.1.0", pluginHost="1", pushNotifications="0", readOnlyLibraries="0",
        streamingBrainABRVersion="3", streamingBrainVersion="2", sync="1",
        transcoderActiveVideoSessions=sessions, transcoderAudio="1", transcoderLyrics="1", transcoderPhoto="1",
        transcoderSubtitles="1", transcoderVideo="1", transcoderVideoBitrates="64,96,208,320,720,1500,2000,3000",
        transcoderVideoQualities="0,1,2,3,4,5,6,7,8", transcoderVideoResolutions="128,128,160,240,320,480,768",
        updatedAt=world.now, updater="1", version=world.version, voiceSearch="1")
    for key in ("activities", "butler", "channels", "clients", "diagnostics", "hubs", "library", "playlists",
                "search", "statistics", "system", "transcode", "updater"):
        element("Directory", root, count="1", key=key, title=key)
    return root


SECTION_TYPES = {"movie": ["movie"], "show": ["show", "season", "episode"], "artist": ["artist", "album", "track"]}
SEARCH_CODES = {"movie": 1, "show": 2, "season": 3, "episode": 4, "artist": 8, "album": 9, "track": 10,
                "collection": 18}
_OPERATORS = {
    "string": [("=", "contains"), ("!=", "does not contain"), ("==", "is"), ("!==", "is not")],
    "integer": [("=", "is"), ("!=", "is not"), (">>=", "is greater than"), ("<<=", "is less than")],
    "date": [(">>=", "is after"), ("<<=", "is before")],
    "tag": [("=", "is"), ("!=", "is not")],
    "boolean": [("=", "is true"), ("!=", "is false")],
}


def filter_meta(section: Section, types: list[str]) -> Element:
    """The <Meta> block plexapi reads (includeMeta=1) before it builds a filtered or sorted search."""
    meta = element("Meta")
    for n, type_ in enumerate(types):
        prefix = "" if type_ in ("movie", "collection") else f"{type_}."
        t = element("Type", meta, key=f"/library/sections/{section.section_id}/all?type={SEARCH_CODES[type_]}",
                    type=type_, title=type_.capitalize(), active=flag(n == 0))
        for key, kind, title in (("title", "string", "Title"), ("addedAt", "date", "Date Added"),
                                 ("year", "integer", "Year")):
            element("Field", t, key=f"{prefix}{key}", title=title, type=kind)
        for key, title in (("titleSort", "Title"), ("addedAt", "Date Added"), ("year", "Year")):
            element("Sort", t, defaultDirection="asc", descKey=f"{prefix}{key}:desc", key=key, title=title)
    for kind, operators in _OPERATORS.items():
        ft = element("FieldType", meta, type=kind)
        for key, title in operators:
            element("Operator", ft, key=key, title=title)
    return meta
