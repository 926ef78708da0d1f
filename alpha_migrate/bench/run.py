"""`invoke bench`: synthetic sources at each size, and on one PostgreSQL 16, in the same run: the COPY
limit, the floor of the project's own shape, `invoke migrate` by phase, pandas `to_sql`, the client's peak
memory, and the plan's queries in SQLite, partitioned and unpartitioned PostgreSQL. Writes
reports/bench-<time>.json and .md."""

import datetime as dt
import json
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from alpha_migrate.bench import floor, limit, queries
from alpha_migrate.bench.child import run_measured
from alpha_migrate.bench.report import render_markdown
from alpha_migrate.console import Console
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError
from alpha_migrate.migrate import resolve_target
from alpha_migrate.paths import REPORTS_DIR, STATE_DIR
from scripts.synthetic_db import write_next_day, write_synthetic_database

BENCH_DIR = STATE_DIR / "bench"
DATABASE = "alpha_bench"
INVOKE = str(Path(sys.executable).with_name("invoke"))
LOAD_PHASES = ("snapshot", "extract", "transform", "publish")
# One sync at 5 million rows took 12.8-17.0 s over four benches of the same code: the median of three
# consecutive days measures the sync, not the machine's mood; all three are reported.
DAILY_SYNCS = 3


@dataclass
class BenchOptions:
    sizes: list[int]
    dsn: str | None = None
    repeats: int = 5
    pandas_rows: int = 1_000_000

    @property
    def steps(self) -> int:
        """connect; per size: source, limit, floor, migrate, sync, DuckDB, queries; pandas at its one size."""
        return 1 + 7 * len(self.sizes) + (self.pandas_rows in self.sizes)


def fresh_database(server: Target) -> Target:
    """Drop and create the bench's own database on the server: the bench never touches another."""
    con = psycopg2.connect(Target({**server.params, "dbname": "postgres"}).libpq())
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(f"drop database if exists {DATABASE} with (force)")
            cur.execute(f"create database {DATABASE}")
    except psycopg2.Error as exc:
        raise MigrationError(f"the bench needs a role that may create databases: {exc.pgerror or exc}") from None
    finally:
        con.close()
    return Target({**server.params, "dbname": DATABASE})


def source_years(sqlite: Path) -> range:
    import sqlite3

    con = sqlite3.connect(sqlite)
    first, last = con.execute("select min(substr(date, 1, 4)), max(substr(date, 1, 4)) from daily_prices").fetchone()
    con.close()
    return range(int(first), int(last) + 1)


def settle(target: Target) -> None:
    """Vacuum and analyze the whole database before the sync is timed. It was added when autovacuum of the
    new partitions ran during the sync (at 5,000,000 rows, on the 34 partitions, through the sync's whole
    24.5 s). `invoke migrate` now vacuums the partitions of a first load itself, so this vacuums above all
    the staging tables, which autovacuum leaves alone after their inserts (it only analyzes them): a little
    more than a day's autovacuum would have done."""
    con = psycopg2.connect(target.libpq())
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("vacuum (analyze)")
    finally:
        con.close()


def measure_migrate(sqlite: Path, target: Target, logs: Path, name: str = "migrate") -> dict:
    report = logs / f"{name}.json"
    child, password = target.without_password()
    measured = run_measured(
        [INVOKE, "migrate", "--sqlite", str(sqlite), "--dsn", child.uri(), "--report", str(report)],
        logs / f"{name}.log",
        password,
    )
    if measured.returncode != 0:
        raise MigrationError(f"invoke migrate failed during the bench: see {logs / f'{name}.log'}")
    summary = json.loads(report.read_text())
    phases = summary["phases"]
    return {
        "sync": summary["sync"]["daily_prices"],
        "seconds": measured.seconds,
        "load_seconds": round(sum(phases[p] for p in LOAD_PHASES), 2),
        "phases": phases,
        "peak_rss_mb": measured.peak_rss_mb,
        "peak_tree_pss_mb": measured.peak_tree_pss_mb,
    }


def measure_daily_syncs(sqlite: Path, target: Target, logs: Path) -> list[dict]:
    """DAILY_SYNCS syncs of consecutive days, each source the one before with one more day."""
    runs, previous = [], sqlite
    try:
        for day in range(1, DAILY_SYNCS + 1):
            next_day = write_next_day(previous, BENCH_DIR / f"{sqlite.stem}-day-{day}.db")
            if previous != sqlite:
                previous.unlink()
            previous = next_day
            runs.append(measure_migrate(next_day, target, logs, f"daily-sync-{day}"))
    finally:
        # Each day's file is a whole copy of the source (370 MB at 5 million rows): none outlives the bench,
        # whether its sync failed or not.
        for day_file in BENCH_DIR.glob(f"{sqlite.stem}-day-*.db"):
            day_file.unlink(missing_ok=True)
    return runs


def measure_peer(module: str, sqlite: Path, target: Target, years: range, logs: Path) -> dict:
    """A peer's load (`module`'s main: SQLITE URI TABLE) into a copy of the plan's table with its keys in
    place, as a measured child."""
    name = module.rsplit(".", 1)[-1]
    table = f"bench_{name}_prices"
    con = psycopg2.connect(target.libpq())
    con.autocommit = True
    with con.cursor() as cur:
        limit.create_table(cur, years, with_keys=True, table=table)
    child, password = target.without_password()
    measured = run_measured(
        [sys.executable, "-m", module, str(sqlite), child.uri(), table], logs / f"{name}.log", password
    )
    with con.cursor() as cur:
        cur.execute(f"select count(*) from {table}")
        rows = cur.fetchone()[0]
        cur.execute(f"drop table {table}")
    con.close()
    if measured.returncode != 0:
        return {"error": measured.output.strip().splitlines()[-1] if measured.output.strip() else "failed"}
    return {
        "seconds": measured.seconds,
        "peak_rss_mb": measured.peak_rss_mb,
        "peak_tree_pss_mb": measured.peak_tree_pss_mb,
        "rows": rows,
    }


def machine(target: Target) -> dict:
    con = psycopg2.connect(target.libpq())
    with con.cursor() as cur:
        cur.execute("show server_version")
        version = cur.fetchone()[0]
    con.close()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "postgres": version,
        "python": platform.python_version(),
    }


def bench(options: BenchOptions, console: Console) -> dict:
    with console.step("connect", "connecting to PostgreSQL 16"):
        server, _ = resolve_target(options.dsn)
    result: dict = {"when": dt.datetime.now().isoformat(timespec="seconds"), "sizes": {}}
    for rows in options.sizes:
        logs = BENCH_DIR / f"logs-{rows}"
        with console.step(f"source {rows:,}", f"synthetic source of {rows:,} price rows"):
            sqlite = write_synthetic_database(BENCH_DIR / f"synthetic-{rows}.db", rows)
            years = source_years(sqlite)
            csv = BENCH_DIR / f"synthetic-{rows}.csv"
            limit.export_csv(sqlite, csv)
        target = fresh_database(server)
        size: dict = {}
        with console.step(f"limit {rows:,}", "the limit: COPY into bare partitions, then keys; COPY with keys"):
            size["limit"] = limit.measure(target, csv, years)
        csv.unlink()
        with console.step(f"floor {rows:,}", "the project's shape alone: DuckDB's raw copy, one typed INSERT, keys"):
            size["floor"] = floor.measure(sqlite, target, years)
        with console.step(f"migrate {rows:,}", f"invoke migrate of {rows:,} rows (log: {logs / 'migrate.log'})"):
            size["migrate"] = measure_migrate(sqlite, target, logs)
        with console.step(f"sync {rows:,}", f"{DAILY_SYNCS} daily syncs, each one new day for every ticker"):
            settle(target)
            size["daily_syncs"] = measure_daily_syncs(sqlite, target, logs)
            size["daily_sync"] = sorted(size["daily_syncs"], key=lambda run: run["seconds"])[DAILY_SYNCS // 2]
        with console.step(f"duckdb {rows:,}", "DuckDB ATTACH + one typed INSERT ... SELECT into the keyed table"):
            size["duckdb"] = measure_peer("alpha_migrate.bench.duckdb_peer", sqlite, target, years, logs)
        if rows == options.pandas_rows:
            with console.step(f"pandas {rows:,}", "pandas read_sql + to_sql into the partitioned table"):
                size["pandas"] = measure_peer("alpha_migrate.bench.pandas_load", sqlite, target, years, logs)
        turns = f"at least {options.repeats} turns"
        with console.step(f"queries {rows:,}", f"queries: SQLite, partitioned, unpartitioned ({turns})"):
            size["queries"] = queries.measure(sqlite, target, options.repeats)
        result["sizes"][str(rows)] = size
    result["machine"] = machine(server)
    return result


def write_reports(result: dict) -> tuple[Path, Path]:
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = result["when"].replace(":", "").replace("-", "")
    json_path, md_path = REPORTS_DIR / f"bench-{stamp}.json", REPORTS_DIR / f"bench-{stamp}.md"
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    md_path.write_text(render_markdown(result))
    return json_path, md_path
