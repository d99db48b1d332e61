"""Only the titles of the libraries a reader can open (or the public site may show), from a frozen snapshot.

The run stage says which library (section id) each title is in and which libraries a reader can open;
a title whose library is unknown is shown only where every library is allowed (the safe side). A coming-soon
title carries the libraries that could hold it (frozen with the issue): it is shown only where all of them are.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

TOP_KINDS = ("movies", "shows", "music")


def title_keys(snapshot: Mapping[str, Any]) -> list[int]:
    """Every rating key the snapshot's title lists name: recently added, the top lists, the watchlist, and each
    reader's own top and shared titles."""
    rows = [*((snapshot.get("added") or {}).get("items") or []), *(snapshot.get("community_watchlist") or [])]
    for user in (snapshot.get("users") or {}).values():
        rows += [*(user.get("top_titles") or []), *(user.get("shared_titles") or [])]
    for kind in (snapshot.get("top") or {}).values():
        for ranking in (kind or {}).values():
            rows += ranking or []
    return sorted({int(r["rating_key"]) for r in rows if r.get("rating_key") is not None})


def only_libraries(snapshot: Mapping[str, Any], sections_of: Mapping[int, int],
                   allowed: Iterable[int] | None) -> dict:
    """The snapshot with its title lists cut to the `allowed` libraries (None: every library, unchanged)."""
    if allowed is None:
        return dict(snapshot)
    allowed = frozenset(allowed)

    def keep(rows: Iterable[Mapping[str, Any]] | None) -> list:
        return [r for r in rows or () if r.get("rating_key") is not None
                and sections_of.get(int(r["rating_key"])) in allowed]

    out = dict(snapshot)
    added = dict(snapshot.get("added") or {})
    added["items"] = keep(added.get("items"))
    out["added"] = added
    out["top"] = {kind: {name: keep(rows) for name, rows in (ranks or {}).items()}
                  for kind, ranks in (snapshot.get("top") or {}).items()}
    out["community_watchlist"] = keep(snapshot.get("community_watchlist"))
    coming = snapshot.get("coming_soon")
    if coming:
        out["coming_soon"] = {**coming, "items": [r for r in coming.get("items") or ()
                                                  if r.get("sections") and allowed.issuperset(r["sections"])]}
    # a reader's own lists too: their plays may predate a share that no longer opens the library
    out["users"] = {uid: {**user, "top_titles": keep(user.get("top_titles")),
                          "shared_titles": keep(user.get("shared_titles"))}
                    for uid, user in (snapshot.get("users") or {}).items()}
    return out
