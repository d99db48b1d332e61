"""The ingested_data fixture: a copy of one sandbox's first ingest is the store a fresh ingest would make."""

from __future__ import annotations

import duckdb

from tests.fixtures.enforce_sandbox import EnforceSandbox

# When each migration was applied is the one wall-clock value a store keeps.
VOLATILE = {"schema_version": "applied_at"}


def dump(data_dir) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(data_dir / "marquee.duckdb"), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return {t: con.execute(f'SELECT * EXCLUDE ({VOLATILE[t]}) FROM "{t}" ORDER BY ALL' if t in VOLATILE
                               else f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables}
    finally:
        con.close()


def test_a_restored_store_is_the_store_a_fresh_ingest_makes(tmp_path, ingested_data):
    with EnforceSandbox(tmp_path / "fresh") as fresh:
        fresh.ingest()
    with EnforceSandbox(tmp_path / "restored") as restored:
        restored.restore(ingested_data)
        assert restored.query("SELECT count(*) FROM tautulli_history")[0][0] > 0  # it opens as a store
    got, want = dump(tmp_path / "restored" / "data"), dump(tmp_path / "fresh" / "data")
    assert sorted(got) == sorted(want) and got == want
