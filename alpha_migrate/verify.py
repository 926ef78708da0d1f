"""`invoke verify`: the dbt tests, then risk-metric parity between the SQLite source and PostgreSQL.

The source side is computed by DuckDB over a snapshot of the SQLite file: the values as SQLite holds
them, for the rows the last migration loaded, keyed as it normalised them (joined by rowid to its staging
models; merged copies and quarantined rows are not in the target, so not compared). The target side is
the same SQL, in the same DuckDB, on the rows PostgreSQL returns, as the plan's risk_manager.py reads the
new database: one engine's arithmetic on both sides, so a difference is the data's. (PostgreSQL's own
run of it took 8.3 s at a million rows, DuckDB's 2.) A metric fails when |source - target| exceeds the
bound that the documented rounding of the prices allows (risk_metrics.py).

At the end of `invoke migrate` (after_migration) the source side comes from the staging models instead,
which carry each loaded row's value as read from the file: the run's reconciliation has just proven
that copy equal to the snapshot, so the file is not read twice (STAGED_SOURCE_PRICES).
"""

import datetime as dt
import json
import math
from pathlib import Path

import duckdb

from alpha_migrate import target_db
from alpha_migrate.console import Console
from alpha_migrate.dbt import run_dbt
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError, first_line
from alpha_migrate.extract import ALL_CORES, connect_duckdb, source_relations, sql_literal
from alpha_migrate.paths import REPORTS_DIR, SNAPSHOT_DIR
from alpha_migrate.risk_metrics import BENCHMARK, METRICS, PORTFOLIO, metrics_sql, to_stats
from alpha_migrate.rounding import rounding_bound
from alpha_migrate.source import take_snapshot

# The target side of the same rows: those the last migration loaded (rows written straight to PostgreSQL,
# by the Bot for instance, have no source to be compared with). When the table holds exactly the loaded
# keys, as after a migration, the digests of both key sets agree (each key hashed as the report's
# checksums hash rows, target_db.row_hash_sql) and the rows are read without the join: at 5 million rows,
# the join took 7.9-10.3 s and the digests with the plain read 5.0-5.3 s. Gate and rows come from one
# statement, so from one snapshot of both tables.
_KEYS_DIGEST = f"count(*)::text || ':' || coalesce(sum({target_db.KEY_HASH}), 0)::text"
TARGET_PRICES = f"""
    with keys_differ as materialized (
        select
            (select {_KEYS_DIGEST} from public.daily_prices)
            is distinct from (select {_KEYS_DIGEST} from staging.stg_daily_prices where outcome = 'loaded')
            as differ
    )
    select prices.ticker as series, prices.date, prices.adj_close::float8 as price
    from public.daily_prices as prices
    where not (select keys_differ.differ from keys_differ) and prices.adj_close is not null
    union all
    select prices.ticker, prices.date, prices.adj_close::float8
    from public.daily_prices as prices
    inner join staging.stg_daily_prices as staged using (ticker, date)
    where (select keys_differ.differ from keys_differ) and staged.outcome = 'loaded' and prices.adj_close is not null
    union all
    select '{PORTFOLIO}', portfolio.date, portfolio.total_portfolio_value::float8
    from public.portfolio_v1_performance as portfolio
    inner join staging.stg_portfolio_v1_performance as staged using (date)
    where staged.outcome = 'loaded' and portfolio.total_portfolio_value is not null
"""
TARGET_ALPHA = "select date, cumulative_alpha::float8 from public.portfolio_v1_performance order by date"

# The source side at the end of `invoke migrate`, whose step 5 has just proven the raw staging copy equal
# to the snapshot: the staging models carry each loaded row's value as read from the file, so the file is
# not read a second time (at 5 million rows that read and its join by rowid took 9 s).
STAGED_SOURCE_PRICES = f"""
    select ticker as series, date, source_adj_close as price from staging.stg_daily_prices
    where outcome = 'loaded' and source_adj_close is not null
    union all
    select '{PORTFOLIO}', date, source_total_portfolio_value from staging.stg_portfolio_v1_performance
    where outcome = 'loaded' and source_total_portfolio_value is not null
"""
STAGED_SOURCE_ALPHA = """
    select date, source_cumulative_alpha from staging.stg_portfolio_v1_performance
    where outcome = 'loaded' and source_cumulative_alpha is not null order by date
"""


def _from_postgres(sql: str) -> str:
    """DuckDB: the rows of a query PostgreSQL runs itself (through the attached `pg`)."""
    return f"select * from postgres_query('pg', {sql_literal(sql)})"


def _source_rows(tables: dict[str, tuple[str, str]], table: str, value: str) -> str:
    """The loaded rows of one source table: values as SQLite holds them (read by DuckDB), keys as the
    migration normalised them (joined by rowid to its staging model), merged copies and rejects left out."""
    relation, rowid = tables[table]
    series = "staged.ticker" if table == "daily_prices" else f"'{PORTFOLIO}'"
    price = f"source.{value}"
    if rowid == "sqlite_rowid":
        # Split by storage class: a loaded row's number may be stored as text, a decimal literal the staging
        # model read (number_in_text), which DuckDB's cast reads to the same double.
        price = f"coalesce({price}, try_cast(source.{value}_text as double))"
    return f"""
        select {series} as series, staged.date, {price} as price
        from {relation} as source
        inner join pg.staging.stg_{table} as staged on staged.sqlite_rowid = source.{rowid}
        where staged.outcome = 'loaded' and {price} is not null"""


# Each thread holds its own buffers: with every core, a smaller pool keeps the process where one thread
# with the default pool kept it (at 5 million rows, 242 MB; 294 MB with 100 MB).
PARITY_MEMORY_LIMIT = "50MB"


def _metrics(duck: duckdb.DuckDBPyConnection, prices: str) -> list[tuple]:
    """The metrics of `prices`; once more on one thread if DuckDB ran out of its pool. Each thread pins
    its own buffers, and at 5 million rows the pool once ran short now and then (on the target side, with
    the window's former eight columns); one thread pins fewer, at up to 1.7 times the time."""
    try:
        return duck.execute(metrics_sql(prices)).fetchall()
    except duckdb.OutOfMemoryException:
        threads = duck.execute("SELECT current_setting('threads')").fetchone()[0]
        duck.execute("SET threads = 1")
        try:
            return duck.execute(metrics_sql(prices)).fetchall()
        finally:
            duck.execute(f"SET threads = {threads}")


def parity(snapshot: Path, target: Target, con, source_staged: bool = False) -> tuple[list[dict], dict]:
    """Metric rows (series, metric, source, target, difference, bound, ok) and both alpha curves.
    `source_staged`: the source side from the staging models (STAGED_SOURCE_PRICES), not the snapshot."""
    duck = connect_duckdb(threads=ALL_CORES, memory_limit=PARITY_MEMORY_LIMIT)
    try:
        duck.execute(f"ATTACH {sql_literal(target.libpq())} AS pg (TYPE postgres, READ_ONLY)")
        if source_staged:
            source_rows = _metrics(duck, _from_postgres(STAGED_SOURCE_PRICES))
            source_alpha = duck.execute(_from_postgres(STAGED_SOURCE_ALPHA)).fetchall()
        else:
            tables = source_relations(duck, snapshot)
            prices = _source_rows(tables, "daily_prices", "adj_close")
            portfolio = _source_rows(tables, "portfolio_v1_performance", "total_portfolio_value")
            source_rows = _metrics(duck, f"{prices} union all {portfolio}")
            alpha = _source_rows(tables, "portfolio_v1_performance", "cumulative_alpha")
            source_alpha = duck.execute(f"select date, price from ({alpha}) as alpha order by date").fetchall()
    except duckdb.Error as exc:
        duck.close()
        raise MigrationError(f"verify could not read the source: {target.redact(first_line(exc))}") from exc
    try:
        # PostgreSQL sends its loaded rows; DuckDB computes their metrics as it did the source's. (They come
        # partition by partition, which with the window's former eight columns ran DuckDB out of its pool in
        # one run of three at 5 million rows; with three, in none of eleven. _metrics survives it anyway.)
        target_rows = _metrics(duck, _from_postgres(TARGET_PRICES))
    except duckdb.Error as exc:
        raise MigrationError(f"verify could not read the target: {target.redact(first_line(exc))}") from exc
    finally:
        duck.close()
    with con.cursor() as cur:
        cur.execute(TARGET_ALPHA)
        target_alpha = cur.fetchall()

    source, target_stats = to_stats(source_rows), to_stats(target_rows)
    market_eps = source[BENCHMARK].eps_r if BENCHMARK in source else 0.0
    rows = []
    for series in sorted(set(source) | set(target_stats)):
        if series not in source or series not in target_stats:
            rows.append(
                {
                    "series": series,
                    "metric": "present",
                    "source": series in source,
                    "target": series in target_stats,
                    "difference": None,
                    "bound": None,
                    "ok": False,
                }
            )
            continue
        ours, theirs = source[series].metrics(), target_stats[series].metrics()
        bounds = source[series].bounds(market_eps)
        for metric in METRICS:
            a, b = ours[metric], theirs[metric]
            difference = None if a is None or b is None else abs(a - b)
            ok = (a is None and b is None) or (difference is not None and difference <= bounds[metric])
            rows.append(
                {
                    "series": series,
                    "metric": metric,
                    "source": a,
                    "target": b,
                    "difference": difference,
                    "bound": bounds[metric],
                    "ok": ok,
                }
            )
    return rows, {"source": source_alpha, "target": target_alpha}


def render_table(rows: list[dict]) -> list[str]:
    def fmt(value) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return str(value)
        return f"{value:.6g}" if math.isfinite(value) else str(value)

    lines = [
        "| series | metric | source (SQLite) | target (PostgreSQL) | difference | bound | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['series']} | {row['metric']} | {fmt(row['source'])} | {fmt(row['target'])} | "
            f"{fmt(row['difference'])} | {fmt(row['bound'])} | {'yes' if row['ok'] else 'NO'} |"
        )
    return lines


# portfolio_v1_performance.cumulative_alpha is numeric(8,6) in the plan.
ALPHA_SCALE = 6


def write_chart(path: Path, alpha: dict) -> None:
    """Source and target on one axis (they should look like one line), and below, their difference on
    each date against the rounding bound it must stay within: agreement at a glance."""
    # A Figure on the Agg canvas, not pyplot: pyplot's import alone took 0.8 s of a 2 s verification.
    from matplotlib.figure import Figure

    # The source may hold a NULL alpha: such a day is compared nowhere, and drawn nowhere.
    source = {day: value for day, value in alpha["source"] if value is not None}
    target = {day: value for day, value in alpha["target"] if value is not None}
    figure = Figure(figsize=(10, 6))
    values, differences = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    for side, label, style in ((source, "SQLite source", "-"), (target, "PostgreSQL target", "--")):
        days = sorted(side)
        values.plot(days, [float(side[d]) for d in days], style, linewidth=1, label=label)
    values.set_title("portfolio_v1_performance.cumulative_alpha")
    values.set_ylabel("cumulative alpha")
    values.legend()
    both = sorted(source.keys() & target.keys())
    bounds = [float(rounding_bound(float(source[d]), ALPHA_SCALE)) for d in both]
    differences.plot(both, [float(target[d]) - float(source[d]) for d in both], linewidth=1, label="target - source")
    differences.fill_between(both, [-b for b in bounds], bounds, alpha=0.2, label="rounding bound")
    differences.set_ylabel("difference")
    differences.legend()
    for axis in (values, differences):
        axis.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def verify(
    sqlite: Path,
    target: Target,
    console: Console,
    snapshot: Path | None = None,
    reports_dir: Path = REPORTS_DIR,
    after_migration: bool = False,
) -> dict:
    """`after_migration`: the caller is `invoke migrate`, whose dbt build has just run every test (not run
    again here) and whose reconciliation has just proven the staging copy equal to `snapshot` (the
    parity's source side is read from it)."""
    with target_db.connect(target) as con:
        target_db.check_server(con)
        dbt_failure = None
        if not after_migration:
            # The reject gate belongs to a migration and its --max-rejects, not to a later check.
            try:
                run_dbt(["test", "--exclude", "test_name:rejects_within_limit"], target, echo=console.say)
            except MigrationError as exc:
                dbt_failure = str(exc)  # still compute and write the parity report: both tell the operator
        snapshot = snapshot or take_snapshot(sqlite, SNAPSHOT_DIR).path
        rows, alpha = parity(snapshot, target, con, source_staged=after_migration)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    reports_dir.mkdir(parents=True, exist_ok=True)
    chart = reports_dir / f"verify-{stamp}-cumulative-alpha.png"
    write_chart(chart, alpha)
    table = render_table(rows)
    report = reports_dir / f"verify-{stamp}.md"
    failed = [row for row in rows if not row["ok"]]
    report.write_text(
        "\n".join(
            [
                f"# Verification of {target.masked}",
                "",
                f"Source: `{sqlite}` (snapshot `{snapshot.name}`"
                + (", as the migration's staging copy, reconciled with it, holds it" if after_migration else "")
                + f"). dbt tests: {'FAILED' if dbt_failure else 'passed'}.",
                f"Risk-metric parity: {'passed' if not failed else f'{len(failed)} metric(s) outside their bound'}.",
                "",
                *table,
                "",
                f"![cumulative alpha, source over target]({chart.name})",
                "",
            ]
        )
    )
    (reports_dir / f"verify-{stamp}.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    for line in table:
        console.detail("      " + line)
    result = {"report": str(report), "chart": str(chart), "metrics": len(rows), "failed": len(failed)}
    problems = ["dbt tests failed (see their output above)"] if dbt_failure else []
    if failed:
        names = ", ".join(f"{row['series']} {row['metric']}" for row in failed[:4])
        problems.append(f"risk-metric parity failed for {len(failed)} metric(s) ({names}, ...)")
    if problems:
        raise MigrationError(f"verification failed: {'; '.join(problems)}; report {report}")
    return result
