"""What is playing on the server right now, from Tautulli's get_activity: read just before acting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.errors import MarqueeError

if TYPE_CHECKING:
    from pipeline.settings import Settings

KEY_FIELDS = ("rating_key", "parent_rating_key", "grandparent_rating_key")


@dataclass(frozen=True)
class Activity:
    """The live sessions: every rating key involved (episode, season, show) and every user streaming."""

    rating_keys: frozenset[int]
    user_ids: frozenset[int]


def now_playing(settings: "Settings") -> Activity:
    """Read Tautulli's current sessions once; raises MarqueeError (one line) when they cannot be read."""
    from pipeline.clients.tautulli import TautulliClient

    if not settings.tautulli.configured:
        raise MarqueeError("Tautulli is not configured (set TAUTULLI_URL and TAUTULLI_API_KEY), so what is "
                           "playing right now cannot be checked")
    data = TautulliClient(settings.tautulli).call("get_activity")
    sessions = data.get("sessions") if isinstance(data, dict) else None
    if not isinstance(sessions, list):
        raise MarqueeError("Tautulli get_activity answered without a session list; check TAUTULLI_URL")
    keys: set[int] = set()
    users: set[int] = set()
    for s in sessions:
        if not isinstance(s, dict):
            continue
        # Each value on its own: a junk rating key (live TV) must not hide who is watching, nor the reverse.
        keys.update(k for k in (_number(s.get(name)) for name in KEY_FIELDS) if k is not None)
        user_id = _number(s.get("user_id"))
        if user_id is not None:
            users.add(user_id)
    return Activity(frozenset(keys), frozenset(users))


def _number(value: Any) -> int | None:
    """An id as Tautulli sends it (int or digit string); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
