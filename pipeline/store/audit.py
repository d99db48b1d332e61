"""The audit trail: one enforce_runs row per run and an audit row for every decision and every outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Mapping

import pyarrow as pa

from pipeline.clock import Clock
from pipeline.logs import REDACTOR
from pipeline.store import Store

SUBJECTS = ("user", "media", "run")
PHASES = ("planned", "started", "done", "failed", "partial", "skipped", "refused", "forced")


@dataclass(frozen=True)
class AuditRow:
    """One line of the trail; `inputs` are what the decision saw, `outcome` what acting did."""

    subject: str
    subject_id: int | None
    subject_name: str | None
    action: str
    phase: str
    reason: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outcome: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.subject not in SUBJECTS:
            raise ValueError(f"audit subject must be one of {SUBJECTS}, not {self.subject!r}")
        if self.phase not in PHASES:
            raise ValueError(f"audit phase must be one of {PHASES}, not {self.phase!r}")


class Audit:
    """Writes the trail of one enforce run; every write commits at once, so a kill loses nothing written."""

    def __init__(self, store: Store, clock: Clock, *, applied: bool, forced: bool = False, scope: str = "all") -> None:
        self.store = store
        self.clock = clock
        self.applied = applied
        self.run_id: int = store.execute("act/start_run", {"started_at": clock.now(), "applied": applied,
                                                            "forced": forced, "scope": scope})[0][0]

    def record(self, *rows: AuditRow) -> None:
        """Append rows in one statement (thousands of planned decisions cost one insert)."""
        self.write(rows)

    def write(self, rows: Iterable[AuditRow]) -> None:
        rows = list(rows)
        if not rows:
            return
        now = self.clock.now()
        table = pa.table({
            "run_id": pa.array([self.run_id] * len(rows), pa.int64()),
            "logged_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
            "subject": [r.subject for r in rows],
            "subject_id": pa.array([r.subject_id for r in rows], pa.int64()),
            "subject_name": pa.array([r.subject_name for r in rows], pa.string()),
            "action": [r.action for r in rows],
            "phase": [r.phase for r in rows],
            "reason": [REDACTOR.redact(r.reason) for r in rows],
            "inputs": [to_json(r.inputs) for r in rows],
            "outcome": pa.array([None if r.outcome is None else to_json(r.outcome) for r in rows], pa.string()),
        })
        con = self.store.con
        con.register("audit_rows", table)
        try:
            self.store.execute("act/insert_audit")
        finally:
            con.unregister("audit_rows")

    def finish(self, status: str, summary: str) -> None:
        """Close the run: ok | refused | failed."""
        self.store.execute("act/finish_run", {"run_id": self.run_id, "finished_at": self.clock.now(),
                                              "status": status, "summary": REDACTOR.redact(summary)})


def to_json(value: Mapping[str, Any]) -> str:
    """JSON with datetimes as ISO 8601 and secrets redacted (error texts can carry URLs)."""
    return REDACTOR.redact(json.dumps(value, default=_plain, sort_keys=True))


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return str(value)


def trail(store: Store, subject: str, subject_id: int) -> list[dict]:
    """Every audit row of one user or item, oldest first, with inputs and outcome parsed."""
    rows = store.records("act/audit_for", {"subject": subject, "subject_id": subject_id})
    for row in rows:
        for key in ("inputs", "outcome"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key])
    return rows
