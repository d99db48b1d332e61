"""The store opened read-only, without the writer lock or migrations: what `invoke doctor` looks at."""

from __future__ import annotations

import duckdb

from pipeline.errors import StoreError
from pipeline.settings import Settings
from pipeline.store.db import Store
from pipeline.store.migrate import migrations


class StoreBusy(StoreError):
    """Another process has the store open for writing (DuckDB allows one writer and no readers then)."""


def peek_store(settings: Settings) -> Store | None:
    """The store read-only, or None when there is none yet; StoreBusy while another run holds it."""
    path = settings.data.db_path
    if not path.is_file():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreBusy(f"{path} is open in another Marquee process (the daemon, or a run)") from None
        raise StoreError(f"cannot open {path}: {str(exc).splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open {path}: {str(exc).splitlines()[0]}") from None
    return Store(con, None, None)  # no path: closing it must not chmod anything (doctor only looks)


def versions(store: Store) -> tuple[int, int]:
    """(the store's schema version, the newest this code knows)."""
    return store.execute("store/schema_version")[0][0], len(migrations())
