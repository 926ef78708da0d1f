"""Generated files: random rowid layouts and random dirt (tests/strange_sources.py), a few hundred rows
each. For every file, SQLite's own count equals loaded + merged + quarantined, the target holds exactly
the loaded rows, and every loaded value is within rounding of the value the file stores.

The migrations run in this process (as `invoke migrate` runs them) into one database emptied between
files, so that dbt parses the project once for all of them.
"""

import sqlite3
from io import StringIO

import pytest

from alpha_migrate.console import Console
from alpha_migrate.migrate import STEPS, Options, migrate
from alpha_migrate.raw_layout import row_identity
from alpha_migrate.rounding import within_rounding
from tests.conftest import execute, query
from tests.strange_sources import LAYOUTS, write_random_file

SEEDS = range(24)
SCALES = {
    "daily_prices": {"raw_close": 4, "adj_close": 4, "volume": 0},
    "portfolio_v1_performance": {"total_portfolio_value": 2, "daily_return_vs_spy": 6, "cumulative_alpha": 6},
}
KEYS = {"daily_prices": ["ticker", "date"], "portfolio_v1_performance": ["date"]}


@pytest.fixture(scope="module")
def migrations(module_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        # What this module checks is the load; the risk-metric parity (tests/integration/test_verification.py)
        # would add a whole-history read to each of the 24 runs.
        patch.setattr("alpha_migrate.migrate.verify", lambda *args, **kwargs: {"skipped": "by test_generated_files"})
        for seed in SEEDS:
            out[seed] = migrate_seed(seed, module_db, folder)
    return out


def migrate_seed(seed, module_db, folder):
    source = folder / f"random-{seed}.db"
    written = write_random_file(source, seed)
    execute(
        module_db,
        "drop table if exists public.daily_prices, public.portfolio_v1_performance cascade; "
        "drop schema if exists staging cascade",
    )
    options = Options(source, dsn=module_db.uri(), report=folder / f"{seed}.json", max_rejects=10**6)
    summary = migrate(options, Console(STEPS, StringIO()))
    return written, summary, stored_values(source), loaded_values(module_db)


def stored_values(source) -> dict:
    """Per table, identity -> the values as the file stores them (text as bytes: it may not be UTF-8)."""
    con = sqlite3.connect(source)
    try:
        identities = {table: row_identity(con, table).sql for table in SCALES}
        con.text_factory = bytes
        values = {}
        for table, scales in SCALES.items():
            rows = con.execute(f"select {identities[table]}, {', '.join(scales)} from {table}")
            values[table] = {row[0]: row[1:] for row in rows}
        return values
    finally:
        con.close()


def loaded_values(target) -> dict:
    """Per table, identity of the loaded source row -> the target's values for its key."""
    values = {}
    for table, scales in SCALES.items():
        columns = ", ".join(f"target.{c}" for c in scales)
        rows = query(
            target,
            f"""select staged.sqlite_rowid, {columns}
                from staging.stg_{table} as staged
                inner join public.{table} as target using ({", ".join(KEYS[table])})
                where staged.outcome = 'loaded'""",
        )
        values[table] = {row[0]: row[1:] for row in rows}
    return values


def test_the_seeds_cover_every_rowid_layout(migrations):
    seen = {layout for written, *_ in migrations.values() for layout in written["layout"].values()}
    assert seen == set(LAYOUTS)


@pytest.mark.parametrize("seed", SEEDS)
def test_sqlite_count_equals_loaded_merged_and_quarantined(migrations, seed):
    written, summary, stored, loaded = migrations[seed]
    assert summary["status"] == "ok"
    for table in SCALES:
        counts = summary["reconciliation"][table]
        assert counts["source"] == written["rows"][table] == len(stored[table]), table
        assert counts["source"] == counts["loaded"] + counts["merged"] + counts["quarantined"], table
        assert summary["target_rows"][table] == counts["loaded"] == len(loaded[table]), table
        assert sum(summary["rejected"][table].values()) == counts["quarantined"], table


@pytest.mark.parametrize("seed", SEEDS)
def test_every_loaded_value_is_within_rounding_of_the_stored_one(migrations, seed):
    _, _, stored, loaded = migrations[seed]
    for table, scales in SCALES.items():
        for identity, target_values in loaded[table].items():
            source_values = stored[table][identity]
            for (column, scale), target, source in zip(scales.items(), target_values, source_values, strict=True):
                if source is None:  # SQLite stores a NaN as NULL too
                    assert target is None, (table, identity, column)
                else:
                    assert within_rounding(target, source, scale), (table, identity, column, target, source)
