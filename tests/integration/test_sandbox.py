"""An analyst's sandbox: `dbt build --target dev` builds every model, partition and test into the
analyst's own schemas from the production staging sources, and leaves every production table as it was."""

import re

from tests.conftest import analyst_dbt_test, digests, query


def test_a_dev_build_writes_only_the_analysts_schemas(migrated_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ALPHA_DEV_SCHEMA", "dbt_alice")
    production = production_digests(migrated_db)
    result = analyst_dbt_test(migrated_db, tmp_path, "build", "--target", "dev")
    assert result.returncode == 0, result.stdout
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0", result.stdout), result.stdout
    # Production: every table's rows as they were, and no new table.
    assert production_digests(migrated_db) == production
    # The sandbox: the plan's tables with their partitions and keys, as many rows as production.
    assert query(migrated_db, "select count(*) from dbt_alice.daily_prices") == query(
        migrated_db, "select count(*) from public.daily_prices"
    )
    assert query(
        migrated_db,
        "select count(*) from pg_inherits where inhparent = 'dbt_alice.daily_prices'::regclass",
    ) == query(migrated_db, "select count(*) from pg_inherits where inhparent = 'public.daily_prices'::regclass")
    assert query(migrated_db, "select count(*) from dbt_alice_staging.stg_daily_prices")[0][0] > 0


def production_digests(target) -> dict[str, list]:
    """Every table of the production schemas, with its digest (a new table shows as well)."""
    tables = query(
        target,
        "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('public', 'staging', 'reference') and c.relkind in ('r', 'p') "
        "and not c.relispartition order by 1",
    )
    names = [name for (name,) in tables]
    return dict(zip(names, digests(target, names), strict=True))
