"""The dbt unit tests of the data rules (`unit_tests:` in models/staging/sqlite/_sqlite__models.yml), for
`invoke test --quick`. dbt reads the column types of a model's inputs from the database, so they run in a
database of their own on the embedded server, migrated once from a demo file; later runs reuse it."""

from io import StringIO

import psycopg2

from alpha_migrate import embedded
from alpha_migrate.console import Console
from alpha_migrate.dbt import run_dbt
from alpha_migrate.migrate import STEPS, Options, migrate
from alpha_migrate.paths import STATE_DIR
from scripts.demo_db import write_demo_database

DATABASE = "alpha_unit_tests"


def run_dbt_unit_tests(echo=print) -> None:
    target = embedded.start(database=DATABASE)
    if not _migrated(target):
        demo = STATE_DIR / "unit-tests-demo.db"
        demo.unlink(missing_ok=True)
        write_demo_database(demo)
        echo(f"dbt unit tests: migrating the demo into {DATABASE} once, for the inputs' column types")
        options = Options(demo, dsn=target.uri(), report=STATE_DIR / "unit-tests-migrate.json")
        migrate(options, Console(STEPS, StringIO()))
    run_dbt(["test", "--select", "test_type:unit"], target, echo)


def _migrated(target) -> bool:
    con = psycopg2.connect(target.libpq())
    try:
        with con.cursor() as cur:
            cur.execute("select to_regclass('staging.sqlite_daily_prices') is not null")
            return cur.fetchone()[0]
    finally:
        con.close()
