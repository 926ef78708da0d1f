"""Invoke tasks: a thin command layer over the `alpha_migrate` package and `scripts/`.

Numeric options have text defaults: invoke would cast them to an int itself, with a traceback for a bad
value; alpha_migrate.arguments checks them instead, with one line that names the option.

invoke migrate [--sqlite PATH] [--dsn DSN] [--report PATH] [--max-rejects N] [--mirror] [--roles] [--verbose] [--debug]
invoke export [--dsn DSN] [--sqlite OUT.db] [--debug]
invoke bench [--sizes N,N] [--dsn DSN] [--repeats N] [--pandas-rows N]
invoke demo-db [--out PATH] [--end YYYY-MM-DD]
invoke db.start | db.stop | db.status | db.psql | db.env [--dsn DSN]
invoke docs [--dsn DSN] [--serve]
invoke lint | test
"""

import os
import sys
from pathlib import Path

from invoke import Collection, task

from alpha_migrate.cli import guarded
from alpha_migrate.paths import DEFAULT_SQLITE, PROJECT_DIR


@task(
    help={
        "sqlite": "SQLite source (default: sector_etfs.db in the working folder)",
        "dsn": "target PostgreSQL 16 as a libpq URI or key=value string (default: $ALPHA_PG_DSN, else embedded)",
        "report": "where to write the JSON summary (default: reports/migrate-<run>.json)",
        "max_rejects": "how many quarantined rows a run may accept and still load (default 0)",
        "mirror": "also delete target rows whose key is gone from the source (default: keep them)",
        "roles": "then create or update the roles of `invoke roles` (needs a DSN that may create roles)",
        "verbose": "also show dbt's node lines and the parity table (always in the run's log)",
        "debug": "show tracebacks",
    }
)
def migrate(
    c,
    sqlite=str(DEFAULT_SQLITE),
    dsn=None,
    report=None,
    max_rejects="0",
    mirror=False,
    roles=False,
    verbose=False,
    debug=False,
):
    """Migrate or sync sector_etfs.db into partitioned PostgreSQL 16, both tables in one transaction."""
    from alpha_migrate.arguments import whole_number
    from alpha_migrate.console import Console
    from alpha_migrate.migrate import STEPS, Options, render_summary
    from alpha_migrate.migrate import migrate as run

    console = Console(steps=STEPS + bool(roles), verbose=verbose)

    def migrate_checked():
        rejects = whole_number("max-rejects", max_rejects)
        return run(Options(Path(sqlite), dsn, Path(report) if report else None, rejects, mirror, roles), console)

    summary = guarded(migrate_checked, debug)
    for line in render_summary(summary):
        console.say(line)


@task(
    help={
        "dsn": "PostgreSQL to export from (default: $ALPHA_PG_DSN, else embedded)",
        "sqlite": "the new SQLite file to write; an existing file is refused (default: sector_etfs.export.db)",
        "debug": "show tracebacks",
    }
)
def export(c, dsn=None, sqlite="sector_etfs.export.db", debug=False):
    """Write PostgreSQL's two tables into a new SQLite file of the plan's section 2 schema: the way back."""
    from alpha_migrate.export import export as run
    from alpha_migrate.migrate import resolve_target

    guarded(lambda: run(resolve_target(dsn)[0], Path(sqlite)), debug)


@task(
    help={
        "sqlite": "SQLite source (default: sector_etfs.db in the working folder)",
        "dsn": "target PostgreSQL 16 (default: $ALPHA_PG_DSN, else embedded)",
        "reports_dir": "where the Markdown, JSON and PNG go (default: reports/)",
        "debug": "show tracebacks",
    }
)
def verify(c, sqlite=str(DEFAULT_SQLITE), dsn=None, reports_dir=None, debug=False):
    """Run the dbt tests and the risk-metric parity report (SQLite via DuckDB against PostgreSQL)."""
    from alpha_migrate.console import Console
    from alpha_migrate.migrate import resolve_target
    from alpha_migrate.paths import REPORTS_DIR
    from alpha_migrate.verify import verify as run

    console = Console(steps=1, verbose=True)  # the parity table is what `invoke verify` is for

    def check():
        target, _ = resolve_target(dsn)
        with console.step("verify", f"verify {target.masked} against {sqlite}"):
            return run(Path(sqlite), target, console, reports_dir=Path(reports_dir) if reports_dir else REPORTS_DIR)

    result = guarded(check, debug)
    console.say(f"verification passed: {result['metrics']} metrics within their rounding bounds")
    console.say(f"  report: {result['report']}")
    console.say(f"  chart:  {result['chart']}")


@task(
    help={
        "dsn": "target PostgreSQL 16 (default: $ALPHA_PG_DSN, else embedded)",
        "ahead": "years after this one to prepare (default 1)",
    }
)
def partitions(c, dsn=None, ahead="1"):
    """Create the yearly partitions daily_prices needs (safe at any time, from cron) and list them."""
    from alpha_migrate.arguments import whole_number
    from alpha_migrate.migrate import resolve_target
    from alpha_migrate.partitions import ensure_partitions, render_listing
    from alpha_migrate.write_lock import write_lock

    def run():
        years = whole_number("ahead", ahead)
        target, _ = resolve_target(dsn)
        with write_lock(target, "invoke partitions") as held:
            return ensure_partitions(target, years, echo=lambda line: None, env=held)

    for line in render_listing(*guarded(run)):
        print(line)


@task(help={"dsn": "target PostgreSQL 16 (default: $ALPHA_PG_DSN, else embedded)"})
def roles(c, dsn=None):
    """Create the roles alpha_reader, alpha_bot and alpha_migrator (passwords from the environment)."""
    from alpha_migrate.migrate import resolve_target
    from alpha_migrate.roles import ensure_roles
    from alpha_migrate.write_lock import write_lock

    def run():
        target, _ = resolve_target(dsn)
        with write_lock(target, "invoke roles"):
            return ensure_roles(target)

    for line in guarded(run):
        print(line)


@task(
    help={
        "run": "the run id (default: the latest run that quarantined rows)",
        "dsn": "target PostgreSQL (default: $ALPHA_PG_DSN, else embedded)",
        "limit": "show at most this many rows (default 100)",
        "prune": "instead, delete the quarantine of all runs but the latest --keep ones",
        "keep": "with --prune: how many runs' quarantines to keep (default 10)",
    }
)
def rejects(c, run=None, dsn=None, limit="100", prune=False, keep="10"):
    """List the quarantined rows of a run: source table, SQLite rowid, reason, raw values; or prune old runs."""
    from alpha_migrate import target_db
    from alpha_migrate.arguments import whole_number
    from alpha_migrate.migrate import resolve_target
    from alpha_migrate.quarantine import list_rejects, prune_rejects
    from alpha_migrate.write_lock import write_lock

    def show():
        rows = whole_number("limit", limit, minimum=1)
        target, _ = resolve_target(dsn)
        with target_db.connect(target) as con:
            return list_rejects(con, run, rows)

    def prune_old():
        runs = whole_number("keep", keep)
        target, _ = resolve_target(dsn)
        with write_lock(target, "invoke rejects --prune"), target_db.connect(target) as con:
            return runs, prune_rejects(con, runs)

    if prune:
        kept, (runs, rows) = guarded(prune_old)
        print(f"deleted the quarantine of {runs} runs ({rows:,} rows); kept the latest {kept} runs'")
        return
    run_id, rows = guarded(show)
    if not rows:
        print(f"no quarantined rows{f' for run {run_id}' if run_id else ''}")
        return
    print(f"quarantined rows of run {run_id} (at most {limit}):")
    for table, rowid, reason, raw in rows:
        print(f"  {table:<26} rowid {rowid:>9}  {reason:<20} {raw}")


@task(help={"out": "where to write it (default: sector_etfs.db)", "end": "last date (default: last business day)"})
def demo_db(c, out=str(DEFAULT_SQLITE), end=None):
    """Write the bundled demo sector_etfs.db (deterministic synthetic prices since 2015)."""
    from alpha_migrate.arguments import iso_date
    from scripts.demo_db import main

    if end:
        guarded(lambda: iso_date("end", end))
    main(["--out", out, *(["--end", end] if end else [])])


@task(
    help={
        "sizes": "price rows of each synthetic source, comma-separated (default 100000,1000000,5000000)",
        "dsn": "a PostgreSQL 16 server where the role may create the database alpha_bench (default: embedded)",
        "repeats": "timed turns of each query at least, after a warm-up; fast ones get more (default 5)",
        "pandas_rows": "the size at which pandas to_sql is also measured (default 1000000)",
        "debug": "show tracebacks",
    }
)
def bench(c, sizes="100000,1000000,5000000", dsn=None, repeats="5", pandas_rows="1000000", debug=False):
    """Measure the COPY limit, the floor of the project's shape, invoke migrate, DuckDB and pandas, and the plan's
    queries (reports/bench-*.md)."""
    from alpha_migrate.arguments import whole_number, whole_numbers
    from alpha_migrate.bench.run import BenchOptions, write_reports
    from alpha_migrate.bench.run import bench as run
    from alpha_migrate.console import Console

    counts = guarded(lambda: whole_numbers("sizes", sizes))
    options = guarded(
        lambda: BenchOptions(counts, dsn, whole_number("repeats", repeats, 1), whole_number("pandas-rows", pandas_rows))
    )
    console = Console(steps=options.steps)

    def measure():
        json_path, md_path = write_reports(run(options, console))
        print(md_path.read_text())
        print(f"written: {md_path} and {json_path}")

    guarded(measure, debug)


@task(
    help={
        "dsn": "the database whose catalog the site describes (default: $ALPHA_PG_DSN, else embedded)",
        "serve": "then serve it on http://localhost:8080 (dbt docs serve) until Ctrl-C",
    }
)
def docs(c, dsn=None, serve=False):
    """dbt docs generate: one static HTML page (target/static_index.html) with lineage and exposures."""
    from alpha_migrate.dbt import run_dbt
    from alpha_migrate.migrate import resolve_target
    from alpha_migrate.paths import PROJECT_DIR

    target, _ = guarded(lambda: resolve_target(dsn))
    guarded(lambda: run_dbt(["docs", "generate", "--static"], target, echo=lambda line: None))
    print(f"written: {PROJECT_DIR / 'target' / 'static_index.html'} (open it in a browser; no server needed)")
    if serve:
        from alpha_migrate.dbt import dbt_environment
        from alpha_migrate.paths import DBT_PROFILES_DIR

        dbt = Path(sys.executable).parent / "dbt"
        c.run(f"{dbt} docs serve --profiles-dir {DBT_PROFILES_DIR}", env=dbt_environment(target))


@task
def lint(c):
    """ruff on Python; sqlfluff (dbt templater, postgres dialect) on SQL, which needs a live database."""
    from alpha_migrate.dbt import dbt_environment, ensure_profiles
    from alpha_migrate.migrate import resolve_target

    bin_dir = Path(sys.executable).parent
    c.run(f"{bin_dir / 'ruff'} check {PROJECT_DIR}", echo=True)
    c.run(f"{bin_dir / 'ruff'} format --check {PROJECT_DIR}", echo=True)
    # sqlfluff's dbt templater fills dbt's relation cache from the catalog: it connects like dbt does.
    target, _ = guarded(lambda: resolve_target(None))
    ensure_profiles()
    with c.cd(str(PROJECT_DIR)):
        c.run(f"{bin_dir / 'sqlfluff'} lint models tests", echo=True, env=dbt_environment(target))


@task(pre=[lint], help={"quick": "lint, the Python unit tests and the dbt unit tests only, in under two minutes"})
def test(c, quick=False):
    """The whole suite: lint, then pytest (real PostgreSQL 16 and 18, real dbt runs, real SQLite files)."""
    with c.cd(str(PROJECT_DIR)):
        if quick:
            from alpha_migrate.dbt_unit_tests import run_dbt_unit_tests

            c.run(f"{sys.executable} -m pytest --durations=5 tests/unit", echo=True, pty=False)
            guarded(run_dbt_unit_tests)
            return
        # Two workers, one per core, a module each at a time (module fixtures stay whole); a third measured
        # barely faster (the suite is CPU-bound) and leaves less room to the tests that time clients.
        c.run(f"{sys.executable} -m pytest --durations=15 -n 2 --dist loadfile", echo=True, pty=False)


@task
def start(c):
    """Start the embedded PostgreSQL 16 (data in .alpha/pgdata) and leave it running."""
    from alpha_migrate import embedded

    target = guarded(embedded.start)
    print(f"embedded PostgreSQL 16 running: {target.uri()}")


@task
def stop(c):
    """Stop the embedded PostgreSQL 16."""
    from alpha_migrate import embedded

    print("stopped" if guarded(embedded.stop) else "not running")


@task
def status(c):
    """Is the embedded PostgreSQL 16 running, and where."""
    from alpha_migrate import embedded

    state = embedded.status()
    if state.running:
        print(f"running (pid {state.pid}): {embedded.target(state.socket_dir).uri()}")
    else:
        print(f"not running (data in {state.pgdata}); start it with: invoke db.start")


@task
def psql(c):
    """Open psql on the embedded PostgreSQL 16 (starting it when needed)."""
    from alpha_migrate import embedded

    target = guarded(embedded.start)
    os.execv(str(embedded.PSQL), [str(embedded.PSQL), target.uri()])


@task(help={"dsn": "print these settings for DSN instead of the embedded server"})
def env(c, dsn=None):
    """Print `export ALPHA_PG_*=...` lines for dbt: eval "$(invoke db.env)"."""
    import shlex

    from alpha_migrate.migrate import resolve_target

    target, _ = guarded(lambda: resolve_target(dsn))
    for name, value in target.dbt_env().items():
        if name == "ALPHA_PG_PASSWORD" and value:
            # Never printed: the operator sets it from wherever the secret lives.
            print(f"# {name} is not printed: export it yourself")
        else:
            print(f"export {name}={shlex.quote(value)}")


db = Collection("db", start, stop, status, psql, env)
namespace = Collection(migrate, export, verify, docs, rejects, partitions, roles, bench, demo_db, lint, test, db)
