"""Run the stats SQL files with exactly the parameters each one names."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any, Mapping

from pipeline.store import Store
from pipeline.store.db import sql

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


def stats_queries() -> list[str]:
    """Names of every file in pipeline/sql/stats/, without the .sql."""
    folder = resources.files("pipeline.sql").joinpath("stats")
    return sorted(e.name[:-4] for e in folder.iterdir() if e.name.endswith(".sql"))


@cache
def params_of(name: str) -> frozenset[str]:
    """The named parameters ($start, $tz ...) that pipeline/sql/<name>.sql binds."""
    return frozenset(_PARAM.findall(_COMMENT.sub("", sql(name))))


def run(store: Store, name: str, params: Mapping[str, Any]) -> list[dict]:
    """Rows of pipeline/sql/<name>.sql as dicts; DuckDB refuses unused parameters, so pass only its own."""
    wanted = params_of(name)
    missing = wanted - params.keys()
    if missing:
        raise ValueError(f"{name}.sql needs parameters {sorted(missing)}")
    return store.records(name, {k: params[k] for k in wanted})
