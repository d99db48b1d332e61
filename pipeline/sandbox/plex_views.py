"""Per-user view state in the Plex sandbox: what each token's user sees as viewCount, viewOffset, lastViewedAt."""

from __future__ import annotations

import numpy as np

from pipeline.sandbox.http import Response
from pipeline.sandbox.world import Item, World

LEAF_TYPES = {"movie", "episode", "track"}
# Handler names a shared user's token may call: browsing and marking, never deleting, editing or history.
SHARED_ROUTES = {"_root", "_identity", "_library", "_sections", "_section_all", "_collections", "_recently_added",
                 "_metadata", "_children", "_all_leaves", "_thumb", "_scrobble", "_unscrobble"}
UNAUTHORIZED = Response(401, b"<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1>"
                              b"</body></html>", "text/html")


def user_views(world: World, user_id: int) -> dict[int, tuple[int, int, int | None]]:
    """One user's view state per item: watched plays counted, the last partial play's offset, then their marks.

    PMS counts a view when a play passes its watched threshold and keeps the offset of an unfinished one;
    a mark (scrobble / unscrobble) replaces both for that item.
    """
    views: dict[int, tuple[int, int, int | None]] = {}
    cols = world.plays.cols
    if len(world.plays):
        mine = np.nonzero(cols["user_id"] == user_id)[0]  # plays are sorted by start: the last one wins the offset
        for rk, stopped, status, percent in zip(cols["rating_key"][mine].tolist(), cols["stopped"][mine].tolist(),
                                                cols["watched_status"][mine].tolist(), cols["percent"][mine].tolist()):
            count, _, last = views.get(rk, (0, 0, None))
            if status >= 1.0:
                views[rk] = (count + 1, 0, max(last or 0, stopped))
            else:
                item = world.items.get(rk)
                offset = int((item.duration_ms or 0) * percent / 100) if item is not None else 0
                views[rk] = (count, offset, last)
    for (uid, rk), state in world.view_marks.items():
        if uid == user_id:
            views[rk] = state
    return views


def leaves_of(item: Item, children: dict[int, list[Item]], leaves: dict[int, list[Item]]) -> list[Item]:
    """What a mark on `item` changes: a show or a season marks each of its episodes, as in PMS."""
    if item.type in LEAF_TYPES:
        return [item]
    if item.type in ("season", "album"):
        return children.get(item.rating_key, [])
    return leaves.get(item.rating_key, [])


def mark(world: World, user_id: int, leaves: list[Item], views: dict, *, watched: bool) -> None:
    """/:/scrobble (one more view, offset cleared, viewed now) or /:/unscrobble (no views, no offset)."""
    for leaf in leaves:
        count = views.get(leaf.rating_key, (0, 0, None))[0]
        world.view_marks[(user_id, leaf.rating_key)] = (count + 1, 0, world.now) if watched else (0, 0, None)
