"""Seerr requests as assignments (retention.assign_requesters): the requester must finish what they asked for."""

from __future__ import annotations

import logging

from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger(__name__)


def request_pairs(store: Store, settings: Settings) -> tuple[list[tuple[int, int]], list[str]]:
    """(target, user) pairs from the ingested Seerr requests, and a note per requester Marquee cannot match.

    Off (assign_requesters = false) gives no pairs, so a sync drops the request assignments made earlier.
    """
    if not settings.retention.assign_requesters:
        return [], []
    pairs, unmatched = [], {}
    for request_id, target, user_id, requester, title in store.execute("media/request_targets"):
        if user_id is None:
            unmatched.setdefault(requester, []).append(f"{title} (request #{request_id})")
        else:
            pairs.append((target, user_id))
    notes = [f"Seerr requester {who!r} matches no Plex user by Plex id, e-mail or username, so "
             f"{', '.join(what)} {'is' if len(what) == 1 else 'are'} not assigned to them" for who, what in
             sorted(unmatched.items())]
    for note in notes:
        log.warning("%s", note)
    return pairs, notes


def requesters(store: Store) -> dict[int, list[int]]:
    """Movie or episode rating key -> the users who requested it (or its season or show)."""
    out: dict[int, list[int]] = {}
    for rating_key, user_id in store.execute("media/requested_items"):
        out.setdefault(rating_key, []).append(user_id)
    return out
