"""Take the web app's inbox in: readers' actions become rows of the store, and their effects are applied.

Every run that opens the store calls this first (ingest, enforce, send), so an unsubscribe is honoured before the
next e-mail and a keep before the next deletion. Taking in is idempotent (the inbox id is the key).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from pipeline.web.inbox import INBOX_FILE, connect, taken_since, uid

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store

log = logging.getLogger(__name__)
# acted_at stays the inbox's ISO text here; DuckDB parses the whole column at once (take_actions.sql).
ROWS = pa.schema([("inbox_uid", pa.string()), ("action_id", pa.int64()), ("acted_at", pa.string()),
                  ("user_id", pa.int64()), ("action", pa.string()), ("target", pa.string())])
EFFECTS = ("inbox/refuse_foreign", "inbox/apply_optouts", "inbox/apply_resubscribes", "inbox/apply_keeps",
           "inbox/mark_applied")


def take_inbox(store: "Store", settings: "Settings", now: datetime) -> int:
    """Copy new inbox rows into reader_actions and apply them; the number taken in (0 without an inbox)."""
    path = Path(settings.data.dir) / INBOX_FILE
    if not path.exists():
        return 0
    con = connect(path, readonly=True)
    try:
        inbox_uid = uid(con)
        rows = taken_since(con, store.execute("inbox/last_taken", {"inbox_uid": inbox_uid})[0][0])
    finally:
        con.close()
    if not rows:
        return 0
    ids, at, users, actions, targets = zip(*rows)
    table = pa.table([pa.array([inbox_uid] * len(ids), pa.string()), pa.array(ids, pa.int64()),
                      pa.array(at, pa.string()), pa.array(users, pa.int64()), pa.array(actions, pa.string()),
                      pa.array(targets, pa.string())], schema=ROWS)
    with store.transaction():
        store.con.register("inbox_rows", table)
        try:
            store.execute("inbox/take_actions", {"now": now})
        finally:
            store.con.unregister("inbox_rows")
        for name in EFFECTS:
            store.execute(name)
    log.info("took in %d reader action(s)", len(rows))
    return len(rows)
