"""A Plex Media Server on loopback that unmodified plexapi can browse, page through and delete from.

The owner's token opens every route. A shared user's token (the accessToken plex.tv lists for their share)
opens the browsing routes and /:/scrobble, /:/unscrobble, with that user's own viewCount, viewOffset and
lastViewedAt on each item, and only the libraries their share opens, as a real PMS answers them.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import unquote

import numpy as np

from pipeline.sandbox import plex_xml as px
from pipeline.sandbox.http import Request, Response, SandboxServer
from pipeline.sandbox.plex_views import SHARED_ROUTES, UNAUTHORIZED as _UNAUTHORIZED, leaves_of, mark, user_views
from pipeline.sandbox.poster import poster
from pipeline.sandbox.world import Item, SandboxUser, Section, World

SEARCH_TYPES = {1: "movie", 2: "show", 3: "season", 4: "episode", 8: "artist", 9: "album", 10: "track",
                18: "collection"}
DEFAULT_TYPE = {"movie": "movie", "show": "show", "artist": "artist"}
SORT_KEYS = {
    "titleSort": lambda i: (i.title.lower(), i.rating_key),
    "title": lambda i: (i.title.lower(), i.rating_key),
    "addedAt": lambda i: (i.added_at, i.rating_key),
    "updatedAt": lambda i: (i.updated_at, i.rating_key),
    "year": lambda i: (i.year or 0, i.rating_key),
}


# `collection[0].tag.tag=A&collection[1].tag.tag=B` sets an item's whole list, as in PMS: plexapi's
# addCollection resends the tags an item already has for that reason.
_TAG_SET = re.compile(r"collection\[(\d+)\]\.tag\.tag")
_TAG_REMOVE = "collection[].tag.tag-"


@dataclass(frozen=True)
class TagEdit:
    """One accepted PUT /library/sections/{id}/all (a collection tag edit), for tests to assert."""

    section_id: int
    type: str                            # the `type` parameter as a libtype: movie | show | ...
    rating_keys: tuple[int, ...]         # `id`, comma-separated in the request
    collections: tuple[str, ...] | None  # the list set by collection[N].tag.tag; None when not sent
    removed: tuple[str, ...] = ()        # collection[].tag.tag- (comma-separated, each URL-quoted)
    locked: bool | None = None           # collection.locked


@dataclass
class _Index:
    """Per-section sorted lists and parent links, rebuilt only when the world changes."""

    version: tuple
    by_section: dict[tuple[int, str], list[Item]] = field(default_factory=dict)
    children: dict[int, list[Item]] = field(default_factory=dict)
    leaves: dict[int, list[Item]] = field(default_factory=dict)
    # user_id -> rk -> (viewCount, viewOffset ms, lastViewedAt), filled per user on first ask
    views: dict[int, dict[int, tuple[int, int, int | None]]] = field(default_factory=dict)
    first_added: dict[int, int] = field(default_factory=dict)         # section -> earliest addedAt
    rendered: dict[int, bytes] = field(default_factory=dict)          # rk -> its XML, for this version only


def _build_index(world: World, version: tuple) -> _Index:
    by_section: dict = defaultdict(list)
    children: dict = defaultdict(list)
    leaves: dict = defaultdict(list)
    first_added: dict[int, int] = {}
    for it in world.items.values():
        by_section[(it.section_id, it.type)].append(it)
        if it.parent_rating_key is not None:
            children[it.parent_rating_key].append(it)
        if it.grandparent_rating_key is not None:
            leaves[it.grandparent_rating_key].append(it)
        first_added[it.section_id] = min(first_added.get(it.section_id, it.added_at), it.added_at)
    for items in by_section.values():
        items.sort(key=SORT_KEYS["titleSort"])
    for items in children.values():
        items.sort(key=lambda i: (i.index or 0, i.rating_key))
    for items in leaves.values():
        items.sort(key=lambda i: (i.parent_index or 0, i.index or 0, i.rating_key))

    return _Index(version, dict(by_section), dict(children), dict(leaves), {}, first_added)


class PlexSandbox(SandboxServer):
    """PMS routes over a World; every route wants X-Plex-Token == world.owner_token."""

    name = "plex"

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0,
                 allow_media_deletion: bool = True) -> None:
        super().__init__(host, port)
        self.world = world
        self.allow_media_deletion = allow_media_deletion
        self.deleted: list[int] = []          # rating keys removed through DELETE, in order
        self.edits: list[TagEdit] = []        # collection tag edits accepted through PUT, in order
        self.revoked: set[int] = set()        # user ids whose share token PMS refuses (401), as after an unshare
        self._world_lock = threading.RLock()
        self._generation = 0
        self._index: _Index | None = None
        self._posters: dict[int, bytes] = {}
        self._history: tuple[int, np.ndarray] | None = None
        self._routes = [
            ("GET", re.compile(r"/"), self._root),
            ("GET", re.compile(r"/identity"), self._identity),
            ("GET", re.compile(r"/library/?"), self._library),
            ("GET", re.compile(r"/library/sections/?"), self._sections),
            ("GET", re.compile(r"/library/sections/(\d+)/all"), self._section_all),
            ("PUT", re.compile(r"/library/sections/(\d+)/all"), self._edit),
            ("GET", re.compile(r"/library/sections/(\d+)/collections"), self._collections),
            ("GET", re.compile(r"/library/recentlyAdded"), self._recently_added),
            ("GET", re.compile(r"/library/metadata/(\d+(?:,\d+)*)"), self._metadata),
            ("DELETE", re.compile(r"/library/metadata/(\d+)"), self._delete),
            ("GET", re.compile(r"/library/metadata/(\d+)/children"), self._children),
            ("GET", re.compile(r"/library/metadata/(\d+)/allLeaves"), self._all_leaves),
            ("GET", re.compile(r"/library/metadata/(\d+)/thumb(?:/\d+)?"), self._thumb),
            ("GET", re.compile(r"/status/sessions"), self._sessions),
            ("GET", re.compile(r"/status/sessions/history/all"), self._history_all),
            ("GET", re.compile(r"/accounts/?"), self._accounts),
            ("GET", re.compile(r"/:/scrobble"), self._scrobble),
            ("GET", re.compile(r"/:/unscrobble"), self._unscrobble),
        ]

    # -- dispatch -------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        account = self._account(request)
        if account is None:
            return _UNAUTHORIZED
        method = "GET" if request.method == "HEAD" else request.method
        path_found = False
        for verb, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match:
                path_found = True
                if not account.is_owner and handler.__name__ not in SHARED_ROUTES:
                    return _UNAUTHORIZED  # a shared user browses and marks; the rest is the owner's
                if verb == method:
                    try:
                        return handler(request, *match.groups())
                    except ValueError:  # a non-numeric paging header or filter, as PMS answers it
                        return self._bad("Bad Request")
        return Response(405 if path_found else 404, b"", "text/html")

    def _account(self, request: Request) -> SandboxUser | None:
        """Whose token the request carries: the owner's, a shared user's (their plex.tv accessToken), or nobody's."""
        token = request.headers.get("x-plex-token") or request.query.get("X-Plex-Token")
        if not token:
            return None
        if token == self.world.owner_token:
            return self.world.owner
        return next((u for u in self.world.users if not u.is_owner and u.has_share and u.share_id is not None
                     and u.user_id not in self.revoked and token == self.world.share_token(u.user_id)), None)

    def _opens(self, account: SandboxUser, section_id: int) -> bool:
        return account.is_owner or account.all_libraries or section_id in account.section_ids

    def views_of(self, idx: _Index, user_id: int) -> dict[int, tuple[int, int, int | None]]:
        with self._world_lock:
            if user_id not in idx.views:
                idx.views[user_id] = user_views(self.world, user_id)
            return idx.views[user_id]

    def invalidate(self) -> None:
        """Forget cached lists; call after changing world.items in place without bumping a section."""
        with self._world_lock:
            self._generation += 1

    # -- helpers -------------------------------------------------------------------------------------
    def index(self) -> _Index:
        w = self.world
        version = (id(w.items), len(w.items), len(w.plays), self._generation,
                   tuple((s.section_id, s.updated_at) for s in w.sections))
        with self._world_lock:
            if self._index is None or self._index.version != version:
                self._index = _build_index(w, version)
            return self._index

    @staticmethod
    def _xml(root) -> Response:
        return Response(200, px.render(root), px.XML)

    @staticmethod
    def _bad(message: str, status: int = 400) -> Response:
        return Response(status, f"<html><body><h1>{status} {message}</h1></body></html>".encode(), "text/html")

    @staticmethod
    def _window(request: Request) -> tuple[int, int | None]:
        """X-Plex-Container-Start/Size from the query (totalViewSize) or the headers (fetchItems)."""
        def pick(name: str) -> str | None:
            return request.query.get(name) or request.headers.get(name.lower())
        start, size = pick("X-Plex-Container-Start"), pick("X-Plex-Container-Size")
        return int(start or 0), (None if size in (None, "") else int(size))

    def _paged(self, request: Request, items: list, **container: object):
        start, size = self._window(request)
        page = items[start:] if size is None else items[start:start + size]
        root = px.element("MediaContainer", size=len(page), totalSize=len(items), offset=start, allowSync="1",
                          identifier="com.plexapp.plugins.library", mediaTagPrefix="/system/bundle/media/flags/",
                          mediaTagVersion="1700000000", **container)
        return root, page

    def _section(self, section_id: int) -> Section | None:
        return next((s for s in self.world.sections if s.section_id == section_id), None)

    def _item_el(self, idx: _Index, item: Item, user_id: int):
        kids = idx.children.get(item.rating_key, [])
        leaves = kids if item.type in ("season", "album") else idx.leaves.get(item.rating_key, [])
        views = self.views_of(idx, user_id)
        viewed = sum(1 for leaf in leaves if views.get(leaf.rating_key, (0,))[0] > 0)
        return px.item_element(self.world, item, child_count=len(kids), leaf_count=len(leaves),
                               views=views.get(item.rating_key), viewed_leaves=viewed)

    def _list(self, request: Request, idx: _Index, items: list[Item], **container: object) -> Response:
        account = self._account(request) or self.world.owner
        if not account.is_owner:
            items = [i for i in items if self._opens(account, i.section_id)]
        root, page = self._paged(request, items, **container)
        parts = []
        for item in page:
            if not account.is_owner:  # another user's view state: not the owner's cached XML
                parts.append(px.fragment(self._item_el(idx, item, account.user_id)))
                continue
            # Serialising is most of a page's cost; an item's XML only changes with a new index version.
            body = idx.rendered.get(item.rating_key)
            if body is None:
                body = idx.rendered[item.rating_key] = px.fragment(self._item_el(idx, item, account.user_id))
            parts.append(body)
        return Response(200, px.render_with(root, parts), px.XML)

    # -- routes ----------------------------------------------------------------------------------------
    def _root(self, request: Request) -> Response:
        return self._xml(px.server_root(self.world, allow_media_deletion=self.allow_media_deletion))

    def _identity(self, request: Request) -> Response:
        return self._xml(px.element("MediaContainer", size="0", apiVersion="1.1.1", claimed="1",
                                    machineIdentifier=self.world.machine_identifier, version=self.world.version))

    def _library(self, request: Request) -> Response:
        root = px.element("MediaContainer", size="3", allowSync="0", art="/:/resources/library-art.png",
                          content="1", identifier="com.plexapp.plugins.library",
                          mediaTagPrefix="/system/bundle/media/flags/", mediaTagVersion="1700000000",
                          title1="Plex Library", title2="")
        for key, title in (("sections", "Library Sections"), ("recentlyAdded", "Recently Added Content"),
                           ("onDeck", "On Deck Content")):
            px.element("Directory", root, key=key, title=title)
        return self._xml(root)

    def _sections(self, request: Request) -> Response:
        idx = self.index()
        account = self._account(request) or self.world.owner
        sections = [s for s in self.world.sections if self._opens(account, s.section_id)]
        root = px.element("MediaContainer", size=len(sections), allowSync="0", title1="Plex Library")
        for s in sections:
            created = idx.first_added.get(s.section_id, s.updated_at) - 86_400
            # contentChangedAt is opaque in PMS (a change counter); ours follows the section's updated_at.
            root.append(px.section_directory(self.world, s, created, str(s.updated_at)))
        return self._xml(root)

    def _section_all(self, request: Request, section_id: str) -> Response:
        section = self._section(int(section_id))
        if section is None:
            return self._bad("Not Found", 404)
        raw_type = request.query.get("type")
        try:
            wanted = SEARCH_TYPES.get(int(raw_type)) if raw_type else DEFAULT_TYPE.get(section.type, section.type)
            self._window(request)
        except ValueError:
            return self._bad("Bad Request")
        if wanted == "collection":
            return self._collections(request, section_id)
        idx = self.index()
        items = idx.by_section.get((section.section_id, wanted or ""), [])
        for name, value in request.query.items():
            # "artist.id=50" (Artist.albums), "show.id=10", "id=5,6": keep items under or equal to those keys.
            if re.fullmatch(r"(?:\w+\.)?id", name):
                try:
                    keys = {int(v) for v in value.split(",")}
                except ValueError:
                    return self._bad("Bad Request")
                items = [i for i in items if keys & {i.rating_key, i.parent_rating_key, i.grandparent_rating_key}]
        if request.query.get("title"):
            needle = request.query["title"].lower()
            items = [i for i in items if needle in i.title.lower()]
        sort = request.query.get("sort", "").split(",")[0]
        if sort:
            name, _, direction = sort.partition(":")
            name = name.rsplit(".", 1)[-1]  # plexapi sends "movie.addedAt:desc"
            if name in SORT_KEYS and (name, direction) != ("titleSort", ""):
                items = sorted(items, key=SORT_KEYS[name], reverse=direction == "desc")
        response = self._list(request, idx, items, librarySectionID=section.section_id,
                              librarySectionTitle=section.title,
                              librarySectionUUID=px.section_uuid(self.world, section.section_id),
                              title1=section.title, title2="All", viewGroup=wanted, viewMode="65592")
        return self._with_meta(request, response, section, px.SECTION_TYPES.get(section.type, [section.type]))

    def _with_meta(self, request: Request, response: Response, section: Section, types: list[str]) -> Response:
        """Add <Meta> (filter and sort fields) when plexapi asks with includeMeta=1."""
        if request.query.get("includeMeta") != "1":
            return response
        from xml.etree.ElementTree import fromstring

        root = fromstring(response.body)
        root.insert(0, px.filter_meta(section, types))
        return self._xml(root)

    def _collections(self, request: Request, section_id: str) -> Response:
        section = self._section(int(section_id))
        if section is None:
            return self._bad("Not Found", 404)
        idx = self.index()
        names = sorted({c for (sid, _), items in idx.by_section.items() if sid == section.section_id
                        for i in items for c in (getattr(i, "collections", ()) or ())})
        root, page = self._paged(request, names, librarySectionID=section.section_id,
                                 librarySectionTitle=section.title)
        for name in page:
            rk = 90_000_000 + section.section_id * 10_000 + names.index(name)
            px.element("Directory", root, ratingKey=rk, key=f"/library/collections/{rk}/children",
                       type="collection", subtype=section.type, title=name, librarySectionID=section.section_id,
                       addedAt=self.world.now, updatedAt=self.world.now, childCount="0")
        return self._with_meta(request, self._xml(root), section, ["collection"])

    def _recently_added(self, request: Request) -> Response:
        idx = self.index()
        items = [i for (_, t), its in idx.by_section.items() if t in ("movie", "season", "album") for i in its]
        items.sort(key=lambda i: (-i.added_at, i.rating_key))
        return self._list(request, idx, items, title1="Recently Added")

    def _metadata(self, request: Request, keys: str) -> Response:
        idx = self.index()
        account = self._account(request) or self.world.owner
        found = [self.world.items[int(k)] for k in keys.split(",") if int(k) in self.world.items
                 and self._opens(account, self.world.items[int(k)].section_id)]
        if not found:
            return self._bad("Not Found", 404)
        first = found[0]
        section = self._section(first.section_id)
        return self._list(request, idx, found, librarySectionID=first.section_id,
                          librarySectionTitle=section.title if section else None,
                          librarySectionUUID=px.section_uuid(self.world, first.section_id))

    def _children(self, request: Request, rk: str) -> Response:
        item = self.world.items.get(int(rk))
        if item is None:
            return self._bad("Not Found", 404)
        idx = self.index()
        kids = idx.children.get(item.rating_key, [])
        return self._list(request, idx, kids, key=item.rating_key, parentTitle=item.title,
                          parentIndex=item.index, librarySectionID=item.section_id, title1=item.title,
                          viewGroup=kids[0].type if kids else None)

    def _all_leaves(self, request: Request, rk: str) -> Response:
        item = self.world.items.get(int(rk))
        if item is None:
            return self._bad("Not Found", 404)
        idx = self.index()
        if item.type in ("season", "album"):
            leaves = idx.children.get(item.rating_key, [])
        elif item.type in px.LEAF_TYPES:
            leaves = [item]
        else:
            leaves = idx.leaves.get(item.rating_key, [])
        return self._list(request, idx, leaves, key=item.rating_key, parentTitle=item.title,
                          librarySectionID=item.section_id, title1=item.title, title2="All episodes",
                          viewGroup=leaves[0].type if leaves else None)

    def _delete(self, request: Request, rk: str) -> Response:
        with self._world_lock:
            item = self.world.items.get(int(rk))
            if item is None:
                return self._bad("Not Found", 404)
            if not self.allow_media_deletion:
                # PMS answers 403 when "Allow media deletion" is off in Settings > Library.
                return self._bad("Forbidden", 403)
            idx = self.index()
            doomed, todo = [], [item.rating_key]
            while todo:  # a show takes its seasons and episodes along
                key = todo.pop()
                doomed.append(key)
                todo.extend(c.rating_key for c in idx.children.get(key, []))
            for key in doomed:
                self.world.items.pop(key, None)
                self._posters.pop(key, None)
            section = self._section(item.section_id)
            if section is not None:
                section.updated_at = max(section.updated_at + 1, self.world.now)
            self.deleted.extend(doomed)
            self._generation += 1
        return Response(200, b"", px.XML)

    def _edit(self, request: Request, section_id: str) -> Response:
        """PUT .../all?type=&id=&collection[N].tag.tag=&collection[].tag.tag-=&collection.locked=: 200, empty."""
        section = self._section(int(section_id))
        if section is None:
            return self._bad("Not Found", 404)
        try:
            edit = _parse_edit(section.section_id, request.query)
        except ValueError:
            return self._bad("Bad Request")
        with self._world_lock:
            items = [self.world.items.get(k) for k in edit.rating_keys]
            if any(item is None for item in items):
                return self._bad("Not Found", 404)
            if any(item.section_id != section.section_id or item.type != edit.type for item in items):
                return self._bad("Bad Request")
            for item in items:
                names = list(edit.collections) if edit.collections is not None else list(item.collections)
                item.collections = tuple(n for n in dict.fromkeys(names) if n not in edit.removed)
                item.updated_at = max(item.updated_at + 1, self.world.now)
            section.updated_at = max(section.updated_at + 1, self.world.now)
            self.edits.append(edit)
            self._generation += 1
        return Response(200, b"", px.XML)

    def _thumb(self, request: Request, rk: str) -> Response:
        item = self.world.items.get(int(rk))
        if item is None:
            return self._bad("Not Found", 404)
        with self._world_lock:
            if item.rating_key not in self._posters:
                self._posters[item.rating_key] = poster(item.rating_key, item.title)
            body = self._posters[item.rating_key]
        return Response(200, body, "image/jpeg")

    def _sessions(self, request: Request) -> Response:
        # The world models finished plays only, so nobody is ever mid-stream.
        return self._xml(px.element("MediaContainer", size="0"))

    def _history_rows(self) -> np.ndarray:
        """Row numbers of watched plays, newest viewedAt first; cached per play count."""
        n = len(self.world.plays)
        with self._world_lock:
            if self._history is None or self._history[0] != n:
                cols = self.world.plays.cols
                rows = np.nonzero(cols["watched_status"] >= 1.0)[0]
                rows = rows[np.argsort(-cols["stopped"][rows], kind="stable")]
                self._history = (n, rows)
            return self._history[1]

    def _history_all(self, request: Request) -> Response:
        w, q = self.world, request.query
        cols = w.plays.cols
        rows = self._history_rows()
        owner_id = w.owner.user_id
        try:
            if q.get("accountID"):
                account = int(q["accountID"])
                rows = rows[cols["user_id"][rows] == (owner_id if account == 1 else account)]
            if q.get("metadataItemID"):
                rows = rows[cols["rating_key"][rows] == int(q["metadataItemID"])]
            if q.get("viewedAt>"):
                rows = rows[cols["stopped"][rows] > int(q["viewedAt>"])]
            if q.get("librarySectionID"):
                sid = int(q["librarySectionID"])
                keys = {i.rating_key for (s, _), its in self.index().by_section.items() if s == sid for i in its}
                rows = rows[np.isin(cols["rating_key"][rows], np.fromiter(keys, dtype=np.int64, count=len(keys)))]
            root, page = self._paged(request, rows)
        except ValueError:
            return self._bad("Bad Request")
        for row in page.tolist():
            user_id = int(cols["user_id"][row])
            root.append(px.history_element(
                w, w.items.get(int(cols["rating_key"][row])), history_id=row + 1,
                viewed_at=int(cols["stopped"][row]), account_id=1 if user_id == owner_id else user_id,
                device_id=int(cols["platform"][row]) + 1))
        return self._xml(root)

    def _scrobble(self, request: Request) -> Response:
        """GET /:/scrobble?key=<rk>&identifier=com.plexapp.plugins.library: watched once more, as the token's user."""
        return self._mark(request, watched=True)

    def _unscrobble(self, request: Request) -> Response:
        """GET /:/unscrobble?key=<rk>&identifier=...: unwatched (no views, no offset), as the token's user."""
        return self._mark(request, watched=False)

    def _mark(self, request: Request, *, watched: bool) -> Response:
        if request.query.get("identifier") != "com.plexapp.plugins.library":
            return self._bad("Bad Request")
        account = self._account(request)
        assert account is not None  # handle() answered 401 already
        with self._world_lock:
            item = self.world.items.get(int(request.query.get("key", "")))
            if item is None or not self._opens(account, item.section_id):
                return self._bad("Not Found", 404)
            idx = self.index()
            leaves = leaves_of(item, idx.children, idx.leaves)
            mark(self.world, account.user_id, leaves, self.views_of(idx, account.user_id), watched=watched)
            self._generation += 1
        return Response(200, b"", px.XML)

    def _accounts(self, request: Request) -> Response:
        users = sorted(self.world.users, key=lambda u: (not u.is_owner, u.user_id))
        root = px.element("MediaContainer", size=len(users) + 1, identifier="com.plexapp.system.accounts")
        px.element("Account", root, id="0", key="/accounts/0", name="", defaultAudioLanguage="en",
                   autoSelectAudio="1", defaultSubtitleLanguage="en", subtitleMode="0", thumb="")
        for u in users:
            account_id = 1 if u.is_owner else u.user_id
            px.element("Account", root, id=account_id, key=f"/accounts/{account_id}", name=u.username,
                       defaultAudioLanguage="en", autoSelectAudio="1", defaultSubtitleLanguage="en",
                       subtitleMode="0", thumb=u.thumb)
        return self._xml(root)


def _parse_edit(section_id: int, query: dict[str, str]) -> TagEdit:
    """The collection edit a PUT asks for; ValueError for anything malformed or not a collection edit."""
    q = {k: v for k, v in query.items() if not k.lower().startswith("x-plex-")}
    libtype = SEARCH_TYPES.get(int(q.pop("type", "")))
    keys = tuple(int(k) for k in q.pop("id", "").split(","))
    locked = q.pop("collection.locked", None)
    if libtype is None or locked not in (None, "0", "1"):
        raise ValueError("bad type or collection.locked")
    removed: tuple[str, ...] = ()
    if _TAG_REMOVE in q:
        # plexapi quotes each name, joins them with commas and quotes the whole value again.
        removed = tuple(unquote(n) for n in q.pop(_TAG_REMOVE).split(","))
    indexed: dict[int, str] = {}
    for name, value in q.items():
        match = _TAG_SET.fullmatch(name)
        if match is None:  # another field or tag: the sandbox models collection edits only
            raise ValueError(f"unsupported edit {name}")
        indexed[int(match.group(1))] = value
    if any(not n.strip() for n in (*removed, *indexed.values())):
        raise ValueError("empty collection name")
    collections = tuple(indexed[i] for i in sorted(indexed)) if indexed else None
    return TagEdit(section_id, libtype, keys, collections, removed, None if locked is None else locked == "1")
