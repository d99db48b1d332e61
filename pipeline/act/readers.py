"""Readers' actions in the audit: each one the inbox brought in appears once, in the enforce run that saw it first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.store.audit import Audit, AuditRow

if TYPE_CHECKING:
    from pipeline.notices.admin import Notifier
    from pipeline.store import Store

WHAT = {"keep": "kept it from the e-mail: it will not be deleted", "done": "said they are done with it",
        "unsubscribe": "unsubscribed from the e-mail", "resubscribe": "subscribed again from the e-mail",
        "still_here": "answered the warning: still here"}


def audit_reader_actions(store: "Store", audit: Audit, notifier: "Notifier | None" = None) -> list[str]:
    """Audit the actions not audited yet and tell the admin's report of them; the lines to show."""
    rows, lines, upto = [], [], None
    for r in store.records("inbox/unaudited"):
        upto = r["taken_at"] if upto is None else max(upto, r["taken_at"])
        applied = r["outcome"] == "applied"
        phase = "done" if applied else "refused"
        reason = f"{r['name']} {WHAT.get(r['action'], r['action'])}" + ("" if applied else f" ({r['outcome']})")
        inputs = {"acted_at": r["acted_at"], "target": r["target"], "reader": r["user_id"]}
        if r["action"] in ("keep", "done"):
            rows.append(AuditRow("media", int(r["target"]), r["title"], f"reader_{r['action']}", phase, reason, inputs))
        else:
            rows.append(AuditRow("user", r["user_id"], r["name"], f"reader_{r['action']}", phase, reason, inputs))
        lines.append(f"reader    {reason}")
        if notifier is not None:
            what = f" ({r['title']})" if r["action"] in ("keep", "done") and r["title"] else ""
            notifier.add("info", f"reader action: {reason}{what}")
    if rows:
        audit.record(*rows)
        store.execute("inbox/mark_audited", {"run_id": audit.run_id, "upto": upto})
    return lines
