"""Fixtures for the integration tests only."""

from __future__ import annotations

import pytest

from tests.fixtures.enforce_sandbox import EnforceSandbox


@pytest.fixture(scope="session")
def ingested_data(tmp_path_factory):
    """The data folder of EnforceSandbox(tmp) (seed 1, clock at world.now) after its first ingest, made once per
    worker. EnforceSandbox.restore() copies it: the same store as ingesting again (test_ingested_data.py checks),
    a second or so cheaper for each enforcement test."""
    tmp = tmp_path_factory.mktemp("ingested")
    with EnforceSandbox(tmp) as sb:
        sb.ingest()
    return tmp / "data"
