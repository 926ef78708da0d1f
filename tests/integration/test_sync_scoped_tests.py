"""On a sync, the key tests of daily_prices (`unique_combination` of (ticker, date), `not_null` of ticker,
configured `where: __published_this_run__`) check the rows the sync published and the days before each
(macros/tests/get_where_subquery.sql), and they can still fail there.

The primary key and the NOT NULL of the contract refuse what these tests look for, so the test takes them
off, as a table rebuilt by hand without them would be, and puts a duplicate and a NULL key among the rows
the sync published. The scope once took one row per key: a duplicate folded into one row, a NULL ticker
matched no published key, and both tests passed.
"""

import pytest

from tests.conftest import copy_with_a_new_day, dbt_test_after_the_sync, execute, migrate_ok, query

NEW_DAY = "2026-11-25"  # the day after DEMO_END


# The scope's two forms (macros/tests/get_where_subquery.sql): a daily sync's keys looked up one by one,
# and beyond the probe limit (here 0) a semi-join.
@pytest.mark.parametrize("dbt_vars", ["{}", "{sync_test_probe_limit: 0}"], ids=["lookups", "semi-join"])
def test_the_key_tests_scoped_to_a_sync_fail_on_a_duplicate_or_null_key_it_published(
    migrated_db, demo_sqlite, tmp_path, dbt_vars
):
    _, summary = migrate_ok(
        copy_with_a_new_day(demo_sqlite, tmp_path / "next.db", NEW_DAY), migrated_db, tmp_path / "sync.json"
    )
    assert summary["classified"]["stg_daily_prices"]["incremental"]  # else the tests check the whole table
    # A key neither published nor within the days before a published one: out of the tests' scope.
    unpublished = query(
        migrated_db,
        """select ticker, date from daily_prices as target where not exists (
               select from staging.stg_daily_prices_published as published
               where published.ticker = target.ticker and target.date between published.date - 10 and published.date
           ) limit 1""",
    )[0]
    execute(
        migrated_db,
        """alter table daily_prices drop constraint pk_daily_prices;
           alter table daily_prices alter column ticker drop not null;
           insert into daily_prices select * from daily_prices where ticker = 'XLK' and date = %(new_day)s;
           insert into daily_prices values (null, %(new_day)s, 1, 1, 1);
           insert into daily_prices select * from daily_prices where ticker = %(ticker)s and date = %(date)s;
           insert into staging.stg_daily_prices_published
           select * from staging.stg_daily_prices_published where ticker = 'SPY' and date = %(new_day)s""",
        {"new_day": NEW_DAY, "ticker": unpublished[0], "date": unpublished[1]},
    )

    result = dbt_test_after_the_sync(
        migrated_db,
        tmp_path,
        summary["run_id"],
        "unique_combination_daily_prices_ticker__date",
        "not_null_daily_prices_ticker",
        dbt_vars=dbt_vars,
    )
    assert result.returncode == 1, result.stdout
    # One duplicate key: the published one. Not the unpublished one (the scope holds), nor SPY's, twice in the
    # published rows but once in the table.
    assert "FAIL 1 unique_combination_daily_prices_ticker__date" in result.stdout, result.stdout
    assert "FAIL 1 not_null_daily_prices_ticker" in result.stdout, result.stdout


def test_the_staging_tests_of_a_sync_read_only_the_rows_it_reclassified(migrated_db, demo_sqlite, tmp_path):
    """The staging models' tests configured `where: __classified_this_run__` read, in a sync's run, the rows
    reclassified since the last publish (`_to_publish`, consumed by the publish, so refilled here by hand);
    without the run, as an analyst runs them, the whole model."""
    _, summary = migrate_ok(
        copy_with_a_new_day(demo_sqlite, tmp_path / "next.db", NEW_DAY), migrated_db, tmp_path / "sync.json"
    )
    assert summary["classified"]["stg_daily_prices"]["incremental"]
    execute(
        migrated_db,
        """insert into staging.stg_daily_prices_to_publish
           select * from staging.stg_daily_prices where ticker = 'XLK' and date = %(new_day)s;
           update staging.stg_daily_prices_to_publish set outcome = 'unheard_of';
           update staging.stg_daily_prices set outcome = 'unheard_of', ticker = null
           where ticker = 'SPY' and date = '2020-03-02'""",
        {"new_day": NEW_DAY},
    )
    tests = ("accepted_values_stg_daily_prices_outcome__loaded__merged__rejected", "not_null_stg_daily_prices_ticker")
    in_the_run = dbt_test_after_the_sync(migrated_db, tmp_path, summary["run_id"], *tests)
    assert in_the_run.returncode == 1, in_the_run.stdout
    # The reclassified row's outcome, not the other row's; its ticker is not NULL.
    assert f"FAIL 1 {tests[0]}" in in_the_run.stdout, in_the_run.stdout
    assert f"PASS {tests[1]}" in in_the_run.stdout, in_the_run.stdout
    whole = dbt_test_after_the_sync(migrated_db, tmp_path, "", *tests)
    assert whole.returncode == 1, whole.stdout
    # The whole model: the other row's outcome and NULL ticker ('unheard_of' is not 'rejected').
    assert f"FAIL 1 {tests[0]}" in whole.stdout, whole.stdout
    assert f"FAIL 1 {tests[1]}" in whole.stdout, whole.stdout
