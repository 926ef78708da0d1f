"""A snapshot taken while a writer commits holds one committed state of the file, whatever the journal mode:
checked with sqlite3 alone, no PostgreSQL."""

import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from alpha_migrate import source as source_module
from alpha_migrate.errors import MigrationError
from alpha_migrate.source import take_snapshot
from scripts.synthetic_db import write_synthetic_database

# Each commit rewrites every row, so a copy torn between two commits holds two volumes (or fails its
# integrity check). In WAL mode the commits stay in the WAL, never checkpointed: a copy of the file alone
# would miss them all.
WRITER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
con.execute("pragma wal_autocheckpoint = 0")
n = 0
while True:
    n += 1
    con.execute("update daily_prices set volume = ?", (n,))
"""


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_a_snapshot_taken_while_every_row_is_rewritten_holds_one_commit(tmp_path, journal_mode):
    source = write_synthetic_database(tmp_path / "live.db", 100_000)
    with closing(sqlite3.connect(source)) as con:
        assert con.execute(f"pragma journal_mode = {journal_mode}").fetchone() == (journal_mode,)
        con.execute("update daily_prices set volume = 0")
        con.commit()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(source)])
    try:
        volumes = set()
        for _ in range(12):
            snapshot = take_snapshot(source, tmp_path / "snapshots")
            with closing(sqlite3.connect(snapshot.path)) as con:
                assert con.execute("pragma integrity_check").fetchone() == ("ok",)
                seen = con.execute("select distinct volume from daily_prices").fetchall()
            assert len(seen) == 1, f"a torn snapshot: {len(seen)} volumes"
            volumes.update(volume for (volume,) in seen)
    finally:
        writer.kill()
        writer.wait()
    # The writer committed between the snapshots: the check above had something to tear.
    assert len(volumes) > 1


def test_a_copy_that_fails_is_one_line_and_leaves_no_partial_file(tmp_path, monkeypatch):
    source = write_synthetic_database(tmp_path / "source.db", 1_000)
    monkeypatch.setattr(
        source_module,
        "_COPY_FILE",
        "import sys; open(sys.argv[2], 'wb').write(b'half'); sys.exit('No space left on device')",
    )
    with pytest.raises(
        MigrationError, match=r"^could not copy .*source\.db to its snapshot .*: No space left on device$"
    ):
        take_snapshot(source, tmp_path / "snapshots")
    assert list((tmp_path / "snapshots").iterdir()) == []
