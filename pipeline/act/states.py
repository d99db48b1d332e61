"""Each user's MemberState in member_states: loaded before deciding, saved as soon as a step succeeds."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

import pyarrow as pa

from pipeline.policy.users import MemberState
from pipeline.store import Store

UTC_TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema([("user_id", pa.int64()), ("welcomed_at", UTC_TS), ("warned_at", UTC_TS),
                    ("warned_for_idle_since", UTC_TS), ("removed_at", UTC_TS), ("removal_attempts", pa.int32()),
                    ("last_error", pa.string()), ("member_since", UTC_TS), ("updated_at", UTC_TS)])


def load_states(store: Store) -> dict[int, MemberState]:
    """Every stored state by user id (users without a row are policy.users.NEW)."""
    return {row.pop("user_id"): MemberState(**row) for row in store.records("act/user_states")}


def save_states(store: Store, states: Mapping[int, MemberState], at: datetime) -> None:
    """Upsert these users' states in one statement (committed at once, so a kill keeps what was saved)."""
    if not states:
        return
    rows = [{"user_id": uid, "welcomed_at": s.welcomed_at, "warned_at": s.warned_at,
             "warned_for_idle_since": s.warned_for_idle_since, "removed_at": s.removed_at,
             "removal_attempts": s.removal_attempts, "last_error": s.last_error, "member_since": s.member_since,
             "updated_at": at}
            for uid, s in sorted(states.items())]
    store.con.register("member_state_rows", pa.Table.from_pylist(rows, schema=SCHEMA))
    try:
        store.execute("act/user_states_save")
    finally:
        store.con.unregister("member_state_rows")


def save_removed(store: Store, user_id: int, state: MemberState, at: datetime) -> None:
    """Record a finished unshare: the state and plex_users.removed_at together, or neither."""
    with store.transaction():
        save_states(store, {user_id: state}, at)
        store.execute("act/user_unshared", {"user_id": user_id, "at": state.removed_at or at})


def gone_elsewhere(store: Store) -> list[tuple[int, datetime]]:
    """(user_id, when ingest saw their access end) for stored users whose access ended outside Marquee."""
    return [(uid, at) for uid, at in store.execute("act/user_states_gone")]
