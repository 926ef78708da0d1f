"""What the migration asks PostgreSQL directly: is it usable, and what does it now hold."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg2
import yaml

from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError, first_line
from alpha_migrate.paths import PROJECT_DIR

MIN_SERVER_VERSION = 160000
TARGET_TABLES = ("daily_prices", "portfolio_v1_performance")
PARTITIONED_TABLE = "daily_prices"


@contextmanager
def connect(
    target: Target, autocommit: bool = True, application_name: str = "alpha_migrate"
) -> Iterator["psycopg2.extensions.connection"]:
    try:
        con = psycopg2.connect(target.libpq(), connect_timeout=10, application_name=application_name)
    except psycopg2.OperationalError as exc:
        reason = target.redact(str(exc)).strip().splitlines()
        raise MigrationError(
            f"cannot connect to PostgreSQL at {target.masked}: {reason[-1] if reason else exc}; "
            "check --dsn / ALPHA_PG_DSN"
        ) from exc
    # The run's own sessions wait, idle, while its other steps work (the write lock's for the whole run): a
    # server's idle_session_timeout ended them mid-run, and with the lock's session the lock, silently.
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("set idle_session_timeout = 0")
    con.autocommit = autocommit
    try:
        yield con
    finally:
        con.close()


def check_server(con) -> str:
    version = con.server_version
    if version < MIN_SERVER_VERSION:
        raise MigrationError(
            f"PostgreSQL {version // 10000}.{version % 10000} is too old: the target must be PostgreSQL 16 or newer"
        )
    with con.cursor() as cur:
        # DuckDB's postgres extension sends the file's UTF-8 text as is: in a LATIN1 database "٢" was stored
        # as "Ù¢", and read back through DuckDB the same bytes, so the reconciliation could not tell.
        cur.execute("show server_encoding")
        encoding = cur.fetchone()[0]
        if encoding != "UTF8":
            raise MigrationError(
                f"the target database's encoding is {encoding}, not UTF8: SQLite's text would be stored wrong;"
                " create it with ENCODING 'UTF8' (createdb -E UTF8 -T template0 ...)"
            )
        cur.execute("show server_version")
        return cur.fetchone()[0]


def require_migrated(con, target: Target) -> None:
    """Commands that work on the migrated tables stop with one clear line before the first migration."""
    with con.cursor() as cur:
        cur.execute("select to_regclass('public.daily_prices') is not null")
        if not cur.fetchone()[0]:
            raise MigrationError(f"{target.masked} has no daily_prices table yet: run `invoke migrate` first")


def table_rows(con, schema: str, tables) -> dict[str, int]:
    rows = {}
    with con.cursor() as cur:
        for table in tables:
            cur.execute(f'select count(*) from "{schema}"."{table}"')
            rows[table] = cur.fetchone()[0]
    return rows


def partitions(con) -> list[tuple[str, str, int, int]]:
    """Every partition of daily_prices, empty ones included: (name, bounds, rows, bytes on disk)."""
    with con.cursor() as cur:
        cur.execute(
            """
            select child.relname, pg_get_expr(child.relpartbound, child.oid), coalesce(counts.n, 0),
                   pg_total_relation_size(child.oid)
            from pg_inherits
            join pg_class child on child.oid = pg_inherits.inhrelid
            left join (
                select tableoid, count(*) as n from public.daily_prices group by tableoid
            ) counts on counts.tableoid = child.oid
            where pg_inherits.inhparent = 'public.daily_prices'::regclass
            order by child.relname
            """
        )
        return cur.fetchall()


@cache
def _row_hashes() -> dict[str, str]:
    """Each column type's hash, as the dbt project declares it for its tests' digests (dbt_project.yml,
    `alpha_row_hashes`, which says why each type is hashed as it is)."""
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["alpha_row_hashes"]


def row_hash_sql(columns: list[tuple[str, str]]) -> str:
    """A 64-bit hash of a row's `columns` ((name, type) pairs), XOR of each column's own hash. Each
    column's seeds, and its value for NULL, are hashes of its position (constants to the planner): two
    columns cannot swap values unseen, and the values PostgreSQL hashes to the seed itself (NaN; zero to
    the seed less one) stay apart from NULL and from other columns'."""
    hashes, parts = _row_hashes(), []
    for position, (name, kind) in enumerate(columns, start=1):
        template = hashes.get(kind, hashes["any other type"])
        quoted = '"' + name.replace('"', '""') + '"'
        first, second, null = (f"hashint4extended({position}, {k})" for k in (1, 2, 3))
        hashed = template.replace("#1", first).replace("#2", second).replace("@", quoted)
        parts.append(f"coalesce({hashed}, {null})")
    return f"({' # '.join(parts)})"


# daily_prices' key, hashed as `alpha_rows_digest` hashes the staging model's ticker and date: the keys'
# digest that the risk-metric parity compares and that reconciles_with_source takes from the record of
# the mart's contents (mart_contents.py).
KEY_HASH = row_hash_sql([("ticker", "character varying"), ("date", "date")])


def sync_counts(con, run_id: str) -> dict[str, dict[str, int]]:
    """What the run's publish changed, per table, as recorded by macros/publish/publish_table.sql."""
    with con.cursor() as cur:
        cur.execute(
            """select table_name, inserted, updated, unchanged, deleted from staging.sync_runs
               where run_id = %s order by table_name""",
            (run_id,),
        )
        return {t: {"inserted": i, "updated": u, "unchanged": n, "deleted": d} for t, i, u, n, d in cur.fetchall()}


# autovacuum_vacuum_insert_scale_factor's default: autovacuum reads a table again once that share of its
# rows is new since its last vacuum.
BULK_SHARE = 0.2


def vacuum_bulk_published(con, sync: dict[str, dict[str, int]], reconciliation: dict[str, dict]) -> dict[str, str]:
    """Vacuum and analyze the tables whose publish wrote at least BULK_SHARE of their rows; per table, what
    came of it, for the run's output. Autovacuum would start on them within its next minute, and read and
    write them whole while the run's checks and parity read them (at 5 million rows the parity took 60 s
    against 23-30 s). Run now, it costs 3-4 s at that size; the checks then plan with the new rows'
    statistics and find their pages already marked visible. It never holds up the run: a table locked by
    another session, or not the run's role's to vacuum, is skipped (PostgreSQL warns) and left to
    autovacuum, as before."""
    outcomes = {}
    for table, counts in sync.items():
        if counts["inserted"] + counts["updated"] < BULK_SHARE * max(reconciliation[table]["loaded"], 1):
            continue
        del con.notices[:]
        try:
            with con.cursor() as cur:
                cur.execute(f"vacuum (analyze, skip_locked) public.{table}")
        except psycopg2.Error as exc:
            outcomes[table] = f"not vacuumed ({first_line(exc)}); autovacuum will"
            continue
        skipped = [notice.split(":", 1)[-1].strip() for notice in con.notices if "skipping" in notice]
        outcomes[table] = (
            f"vacuum skipped ({skipped[0]}); autovacuum will"
            if skipped
            else "vacuumed and analyzed before its checks read it"
        )
    return outcomes


def classifications(con, run_id: str) -> dict[str, dict]:
    """How the run classified each staging model (macros/materializations/classified_table.sql)."""
    with con.cursor() as cur:
        cur.execute(
            """select model, incremental, reclassified, by_key from staging.classified_runs
               where run_id = %s order by model""",
            (run_id,),
        )
        return {
            model: {"incremental": inc, "reclassified": n, "by_key": by_key} for model, inc, n, by_key in cur.fetchall()
        }


def loaded_per_ticker(con) -> dict[str, int]:
    """The loaded rows of each ticker: one parallel scan, which also counts the loaded rows for the
    reconciliation (quarantine.classify)."""
    with con.cursor() as cur:
        cur.execute("select ticker, count(*) from staging.stg_daily_prices where outcome = 'loaded' group by 1")
        return dict(cur.fetchall())


def new_tickers(con, per_ticker: dict[str, int]) -> dict[str, int]:
    """Tickers this run loads that the reference seed (seeds/sector_tickers.csv) does not list, with their
    loaded rows: valid data, reported so that someone adds their name and sector."""
    with con.cursor() as cur:
        cur.execute("select ticker from reference.sector_tickers")
        known = {ticker for (ticker,) in cur.fetchall()}
    return {ticker: n for ticker, n in sorted(per_ticker.items()) if ticker not in known}


def published(con, run_id: str) -> bool:
    """Did this run's publish commit? It records its counts in staging.sync_runs in its own transaction."""
    with con.cursor() as cur:
        cur.execute("select to_regclass('staging.sync_runs') is not null")
        if not cur.fetchone()[0]:
            return False
        cur.execute("select exists (select from staging.sync_runs where run_id = %s)", (run_id,))
        return cur.fetchone()[0]
