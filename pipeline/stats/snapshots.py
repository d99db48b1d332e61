"""Frozen issues: save a snapshot once, load it forever; never overwrite one by accident."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pipeline.errors import RefusedToAct
from pipeline.store import Store
from pipeline.stats.issue import SCHEMA_VERSION
from pipeline.stats.periods import Period


def _dump(snapshot: dict) -> str:
    """Plain JSON text; refuses anything that would not reload as the same dict."""
    try:
        text = json.dumps(snapshot, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"snapshot is not plain JSON: {exc}") from None
    if json.loads(text) != snapshot:
        # tuples, int dict keys and the like come back different; a frozen issue must reload identical
        raise ValueError("snapshot does not survive a JSON round trip (tuples? non-string keys?)")
    return text


def _built_at(snapshot: dict, built_at: datetime | None) -> datetime:
    if built_at is not None:
        return built_at
    stamp = snapshot.get("generated_at")
    if not stamp:
        raise ValueError("snapshot has no generated_at; pass built_at")
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def save_snapshot(store: Store, key: str, period: Period, snapshot: dict, *, replace: bool = False,
                  built_at: datetime | None = None) -> None:
    """Freeze an issue; an issue already frozen is overwritten only with replace=True."""
    if key != period.issue_key:
        raise ValueError(f"issue key {key!r} does not name period {period.issue_key!r}")
    params = {
        "issue_key": key, "kind": period.kind, "period_key": period.key,
        "starts_at": period.start, "ends_at": period.end, "built_at": _built_at(snapshot, built_at),
        "snapshot": _dump(snapshot), "schema_version": int(snapshot.get("schema_version", SCHEMA_VERSION)),
        "replace": bool(replace),
    }
    written = store.execute("issues/save_issue", params)[0][0]  # one statement: atomic on its own
    if not written:
        kept = issue_meta(store, key)
        when = kept["built_at"].isoformat() if kept else "earlier"
        raise RefusedToAct(f"issue {key} is already frozen (built {when}); rebuild it with replace=True "
                           "to overwrite it, or leave it as published")


def issue_meta(store: Store, key: str) -> dict | None:
    """A frozen issue's row without its snapshot, or None."""
    rows = store.records("issues/load_issue", {"issue_key": key})
    return {k: v for k, v in rows[0].items() if k != "snapshot"} if rows else None


def load_snapshot(store: Store, key: str) -> dict | None:
    """The snapshot frozen under `key` exactly as saved, or None if there is none."""
    rows = store.records("issues/load_issue", {"issue_key": key})
    return json.loads(rows[0]["snapshot"]) if rows else None


def list_snapshots(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """Frozen issues (without snapshots), newest period first; all kinds when kind is None."""
    return store.records("issues/list_issues", {"kind": kind})
