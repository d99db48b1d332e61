"""Take the web app's inbox in: readers' actions become rows of the store, and their effects are applied.

Every run that opens the store calls this first (ingest, enforce, send), so an unsubscribe is honoured before the
next e-mail and a keep before the next deletion. Taking in is idempotent (the inbox id is the key).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pyarrow as pa

from pipeline.web.inbox import INBOX_FILE, connect, taken_since, uid

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store

log = logging.getLogger(__name__)
# acted_at stays the inbox's ISO text here; DuckDB parses the whole column at once (take_actions.sql).
ROWS = pa.schema([("action_id", pa.int64()), ("acted_at", pa.string()), ("user_id", pa.int64()),
                  ("action", pa.string()), ("target", pa.string())])
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
        count, columns = taken_since(con, store.execute("inbox/last_taken", {"inbox_uid": inbox_uid})[0][0])
    finally:
        con.close()
    if not count:
        return 0
    # A column at a time, each one JSON text from SQLite: no Python tuple per action (the cost at 100,000s).
    table = pa.Table.from_arrays([pa.array(orjson.loads(text), field.type) for text, field in zip(columns, ROWS)],
                                 schema=ROWS)
    with store.transaction():  # copied and applied together: a run that dies halfway took nothing in
        store.con.register("inbox_rows", table)
        try:
            store.execute("inbox/take_actions", {"now": now, "inbox_uid": inbox_uid})
        finally:
            store.con.unregister("inbox_rows")
        for name in EFFECTS:
            store.execute(name)
    log.info("took in %d reader action(s)", count)
    return count
