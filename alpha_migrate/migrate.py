"""`invoke migrate`: snapshot -> extract (DuckDB) -> transform and test (dbt build) -> summary."""

import datetime as dt
import json
import os
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from alpha_migrate import embedded, mart_contents, quarantine, target_db
from alpha_migrate.checks import ChecksFailed, add_samples, as_report
from alpha_migrate.console import Console
from alpha_migrate.dbt import LOADED_ROWS_VARIABLE, RUN_ID_VARIABLE
from alpha_migrate.dbt_worker import DbtWorker
from alpha_migrate.dsn import Target
from alpha_migrate.errors import Interrupted, MigrationError, remembered_interrupts
from alpha_migrate.extract import extract
from alpha_migrate.paths import REPORTS_DIR, SNAPSHOT_DIR
from alpha_migrate.roles import ensure_roles
from alpha_migrate.source import take_snapshot
from alpha_migrate.source_check import ReadBack, check_staging_copy
from alpha_migrate.verify import verify
from alpha_migrate.write_lock import write_lock

DSN_ENV = "ALPHA_PG_DSN"
PASSWORD_ENV = "ALPHA_PG_PASSWORD"


@dataclass
class Options:
    sqlite: Path
    dsn: str | None = None
    report: Path | None = None
    max_rejects: int = 0
    mirror: bool = False
    roles: bool = False


NEW_TICKERS_LISTED = 10  # on screen; the report lists them all
STEPS = 8  # connect, snapshot, extract, transform, reconcile, publish, test, verify (+ roles when asked)


def resolve_target(dsn: str | None) -> tuple[Target, bool]:
    """--dsn, else ALPHA_PG_DSN, else the embedded server (started when needed). True if embedded."""
    dsn = dsn or os.environ.get(DSN_ENV)
    if dsn:
        target = Target.parse(dsn)
        # ALPHA_PG_PASSWORD is dbt's profile variable: every client of the run uses it alike.
        password = os.environ.get(PASSWORD_ENV)
        if password and not target.password:
            target = Target({**target.params, "password": password})
        return target, False
    return embedded.start(), True


def default_report_path(run_id: str) -> Path:
    return REPORTS_DIR / f"migrate-{run_id}.json"


def log_path(report: Path) -> Path:
    """The run's log beside its report (never the report itself, whatever the report is named)."""
    return report.with_suffix(".run.log" if report.suffix == ".log" else ".log")


def migrate(options: Options, console: Console) -> dict:
    started = time.perf_counter()
    run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    report_path = options.report or default_report_path(run_id)
    console.open_log(log_path(report_path))
    summary: dict = {"status": "failed", "run_id": run_id, "source": {}, "loaded": {}}
    target = snapshot = None
    lock = ExitStack()
    interrupted = lock.enter_context(remembered_interrupts())
    try:
        with console.step("connect", "connecting to PostgreSQL (16 or newer)"):
            target, is_embedded = resolve_target(options.dsn)
            summary["target"] = target.masked
            summary["embedded"] = is_embedded
            summary["psql"] = psql_command(target, is_embedded)
        with target_db.connect(target) as con:
            summary["server_version"] = target_db.check_server(con)
            console.say(f"      {target.masked} (PostgreSQL {summary['server_version']})")
            # Held through verify and roles: no other writer between this run's extract and its end.
            held = lock.enter_context(write_lock(target, "invoke migrate"))
            dbt_vars = json.dumps({"max_rejects": options.max_rejects, "mirror": options.mirror, "publish": "deferred"})
            run_env = {RUN_ID_VARIABLE: run_id, **held}
            dbt_worker = lock.enter_context(DbtWorker(target))
            # dbt's import and parse (about 3 s) go on beside the snapshot and the extract.
            dbt_worker.prepare(["--vars", dbt_vars], run_env)
            with console.step("snapshot", f"snapshot of {options.sqlite} (copied in one SQLite read transaction)"):
                snapshot = take_snapshot(options.sqlite, SNAPSHOT_DIR)
                summary.update(
                    source=snapshot.rows,
                    source_path=str(options.sqlite),
                    snapshot_path=str(snapshot.path),
                    warnings=snapshot.warnings,
                )
                for warning in snapshot.warnings:
                    console.say(f"      warning: {warning}")
            with console.step("extract", "extract changed rows to staging (DuckDB sqlite scanner -> COPY)"):
                summary["extract"] = extract(snapshot, target, run_id, console)
                # Each file's digest and what was copied, from the extract's one read: for step 5, not the report.
                copied = {
                    table: {key: staged.pop(key) for key in ("source_digest", "changed_blocks", "ranges")}
                    | {"full_copy": staged["full_copy"]}
                    for table, staged in summary["extract"].items()
                }
                summary["staged"] = {table: staged["rows"] for table, staged in summary["extract"].items()}
                for table, staged in summary["extract"].items():
                    how = "all rows" if staged["full_copy"] else f"{staged['blocks_copied']} changed blocks"
                    identity = (
                        "" if staged["row_identity"] == "rowid" else f"; rows identified by {staged['row_identity']}"
                    )
                    console.say(f"      {table}: copied {how}, {staged['rows_copied']:,} rows{identity}")
            read_back = lock.enter_context(ReadBack(target, con, run_id, copied))

            def dbt(*args: str, **more_env: str) -> None:
                # dbt's node lines to the log, its error lines to the screen as well
                dbt_worker.run([*args, "--vars", dbt_vars], {**run_env, **more_env}, console.detail, console.say)
                if interrupted.is_set():
                    raise KeyboardInterrupt

            with console.step("transform", "classify, cast and check in staging (dbt build)"):
                try:
                    dbt("build", "--selector", "before_publish")
                except ChecksFailed as exc:
                    if not quarantine.gate_failed(exc.checks):
                        raise _stopped_by_checks(exc, con, target, summary, published=False) from None
                    # Too many rejects: nothing was loaded; still write the quarantine for the operator.
                    dbt("run-operation", "quarantine_all")
                    summary.update(quarantine.classify(con, snapshot.rows))
                    total = sum(sum(r.values()) for r in summary["rejected"].values())
                    raise MigrationError(
                        f"{total} rows quarantined, more than --max-rejects {options.max_rejects}: the target "
                        f"tables are unchanged; list them with `invoke rejects --run {run_id}`"
                    ) from None
                summary["classified"] = target_db.classifications(con, run_id)
                for model, how in summary["classified"].items():
                    if how["incremental"]:
                        scope = "changed rows and their keys"
                    else:
                        scope = "every row, " + ("by key: a valid key repeats" if how["by_key"] else "one by one")
                    console.say(f"      {model}: reclassified {how['reclassified']:,} rows ({scope})")
            with console.step("reconcile", "reconcile with the SQLite file itself (its count and digest)"):
                summary["source_check"] = check_staging_copy(con, run_id, snapshot.rows, copied, read_back)
                for table, checked in summary["source_check"].items():
                    console.detail(f"      {table}: staging read back ({checked['read_back']}), equal to the file")
                per_ticker = target_db.loaded_per_ticker(con)
                summary.update(quarantine.classify(con, snapshot.rows, {"daily_prices": sum(per_ticker.values())}))
                summary["new_tickers"] = target_db.new_tickers(con, per_ticker)
                if summary["new_tickers"]:
                    new = list(summary["new_tickers"].items())
                    listed = ", ".join(f"{t} ({n:,} rows)" for t, n in new[:NEW_TICKERS_LISTED])
                    more = f" and {len(new) - NEW_TICKERS_LISTED:,} more (see new_tickers in the report)"
                    listed += more if len(new) > NEW_TICKERS_LISTED else ""
                    summary["warnings"].append(f"tickers new to seeds/sector_tickers.csv, loaded: {listed}")
                    console.say(f"      warning: {summary['warnings'][-1]}")
                unbalanced = [t for t, r in summary["reconciliation"].items() if not r["balanced"]]
                for table, counts in summary["reconciliation"].items():
                    console.say(f"      {table}: {_reconciliation_line(counts)}")
                if unbalanced:
                    counts = summary["reconciliation"][unbalanced[0]]
                    raise MigrationError(
                        f"{unbalanced[0]} does not reconcile: {_reconciliation_line(counts)}; nothing was published, "
                        "the target tables are unchanged"
                    )
            with console.step("publish", "publish both tables in one transaction (dbt run-operation publish_marts)"):
                loaded = {table: counts["loaded"] for table, counts in summary["reconciliation"].items()}
                dbt("run-operation", "publish_marts", **{LOADED_ROWS_VARIABLE: json.dumps(loaded)})
                summary["sync"] = target_db.sync_counts(con, run_id)
                for table, counts in summary["sync"].items():
                    console.say(f"      {table}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
            with console.step("test", "test the published tables (dbt test)"):
                for table, outcome in target_db.vacuum_bulk_published(
                    con, summary["sync"], summary["reconciliation"]
                ).items():
                    console.say(f"      {table}: {outcome}")
                # Before the tests: while nothing is written after it, they take the keys' digest from it.
                summary.update(mart_contents.contents(con))
                try:
                    dbt("test", "--selector", "after_publish")
                except ChecksFailed as exc:
                    raise _stopped_by_checks(exc, con, target, summary, published=True) from None
            # The reconciliation of step 5 stands: the publish changes no staging model.
            summary["loaded"] = {t: r["loaded"] for t, r in summary["reconciliation"].items()}
            dbt_worker.close()  # before the parity: dbt's memory goes with its process
        with console.step("verify", "verify: risk-metric parity, SQLite against PostgreSQL"):
            if summary["classified"]["stg_daily_prices"]["incremental"]:
                # Whole-history metrics would cost a full run again; the dbt tests checked what this sync published.
                console.say("      skipped on a sync: the dbt tests checked what it published; `invoke verify` runs it")
            else:
                summary["verify"] = verify(options.sqlite, target, console, snapshot.path, after_migration=True)
        if options.roles:
            with console.step("roles", "roles: alpha_reader, alpha_bot, alpha_migrator"):
                summary["roles"] = ensure_roles(target)
        summary["status"] = "ok"
        return summary
    except BaseException as exc:
        # Ctrl-C may surface as a library's own error instead (DuckDB's "RuntimeError: Query interrupted"
        # while it loads an extension, its InterruptException in a query): the operator asked to stop.
        if isinstance(exc, KeyboardInterrupt) or interrupted.is_set():
            summary["error"] = _interrupted(target, run_id)
            raise Interrupted(summary["error"]) from None
        if isinstance(exc, MigrationError):
            summary["error"] = target.redact(str(exc)) if target else str(exc)
        raise
    finally:
        lock.close()
        if snapshot is not None:
            try:
                summary["snapshot_sha256"] = snapshot.sha256
            # Neither a hash that failed nor Ctrl-C during the wait for it may take the report's place.
            except (OSError, KeyboardInterrupt) as exc:
                summary.setdefault("warnings", []).append(f"the snapshot's SHA-256 was not computed ({exc!r})")
        summary["phases"] = console.timings
        summary["seconds"] = round(time.perf_counter() - started, 3)
        summary["report"] = str(report_path)
        summary["log"] = str(log_path(report_path))
        write_report(report_path, summary)


def write_report(path: Path, summary: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


def render_summary(summary: dict) -> list[str]:
    lines = [f"migration {summary['status']} in {summary['seconds']:.1f} s (run {summary['run_id']})"]
    for table, counts in summary.get("reconciliation", {}).items():
        lines.append(
            f"  {table:<26} source {counts['source']:>10,} = loaded {counts['loaded']:>10,}"
            f" + merged {counts['merged']:>6,} + quarantined {counts['quarantined']:>6,}"
            f"  {'(reconciled)' if counts['balanced'] else '(DOES NOT RECONCILE)'}"
        )
        sync = summary.get("sync", {}).get(table)
        if sync:
            lines.append("      this run: " + ", ".join(f"{what} {n:,}" for what, n in sync.items()))
        for reason, n in summary["rejected"][table].items():
            lines.append(f"      quarantined {n:>8,}  {reason}")
    for warning in summary.get("warnings", []):
        lines.append(f"  warning: {warning}")
    if any(summary.get("rejected", {}).values()):
        lines.append(f"  list quarantined rows: invoke rejects --run {summary['run_id']}")
    partitions = summary.get("partitions", {})
    if partitions:
        names = sorted(partitions)
        lines.append(f"  partitions: {len(names)} yearly ({names[0]} .. {names[-1]})")
    lines.append(f"  snapshot: {summary.get('snapshot_path')} sha256 {summary.get('snapshot_sha256', '')[:16]}...")
    lines.append(f"  report: {summary['report']} (log: {summary['log']})")
    if summary.get("verify"):
        lines.append(f"  verification: {summary['verify']['report']} (chart {summary['verify']['chart']})")
    if summary["status"] == "ok":
        lines.append(f"  connect: {summary['target']}")
        lines.append(f"  psql:    {summary['psql']}")
    return lines


def _stopped_by_checks(exc: ChecksFailed, con, target: Target, summary: dict, published: bool) -> MigrationError:
    """The one line for failed checks, saying whether the target changed; the report gets sample rows."""
    add_samples(con, exc.checks, target.redact)
    summary["failed_checks"] = as_report(exc.checks)
    if published:
        state = "checked after the publish: the target tables hold this run's rows"
    else:
        state = "checked before the publish: the target tables are unchanged"
    return MigrationError(f"{exc} ({state}; sample rows in the report)")


def _interrupted(target: Target | None, run_id: str) -> str:
    """Where Ctrl-C stopped the run, as the target itself records it: a publish commits its counts to
    staging.sync_runs in its own transaction, so they are there exactly when it committed."""
    published = False
    if target is not None:
        try:
            with target_db.connect(target) as con:
                published = target_db.published(con, run_id)
        except (MigrationError, psycopg2.Error):
            return "interrupted; the target could not be asked whether this run had published"
    if published:
        return "interrupted after the publish: the target tables hold this run's rows; its checks did not finish"
    return "interrupted before the publish: the target tables are unchanged"


def _reconciliation_line(counts: dict) -> str:
    return (
        f"SQLite {counts['source']:,} rows = loaded {counts['loaded']:,} + merged {counts['merged']:,}"
        f" + quarantined {counts['quarantined']:,}" + ("" if counts["balanced"] else " DOES NOT HOLD")
    )


def psql_command(target: Target, is_embedded: bool) -> str:
    if is_embedded:
        # The embedded server trusts local connections: this line carries no secret.
        return f"{embedded.PSQL} '{target.uri()}'"
    return f"psql '{target.masked}'  # put the password in PGPASSWORD or ~/.pgpass"
