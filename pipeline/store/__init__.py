"""The DuckDB store: the single source every later stage reads."""

from pipeline.store.db import Store, open_store

__all__ = ["Store", "open_store"]
