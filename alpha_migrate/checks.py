"""Which dbt checks failed, named as an operator reads them, with their failing-row counts and samples."""

from dataclasses import dataclass, field

from alpha_migrate.errors import MigrationError, first_line

SAMPLE_ROWS = 3


@dataclass
class FailedCheck:
    name: str  # e.g. relationships(daily_prices.ticker)
    failures: int | None  # failing rows; None when the check could not run at all
    message: str
    sql: str | None  # the compiled check, to draw sample rows from
    samples: list[dict] = field(default_factory=list)

    def line(self) -> str:
        if self.failures is None:
            return f"check {self.name} could not run: {self.message}"
        return f"check {self.name} failed: {self.failures:,} row{'' if self.failures == 1 else 's'}"


class ChecksFailed(MigrationError):
    def __init__(self, checks: list[FailedCheck], command: str) -> None:
        self.checks, self.command = checks, command
        super().__init__("; ".join(check.line() for check in checks) or f"dbt {command} failed")


def check_name(node) -> str:
    """`test(model.column)` for a generic test, the test's own name for a singular one."""
    metadata = getattr(node, "test_metadata", None)
    if metadata is None:
        return node.name
    model = (getattr(node, "attached_node", None) or "").rsplit(".", 1)[-1]
    column = getattr(node, "column_name", None)
    return f"{metadata.name}({model}{'.' + column if column else ''})"


def failed_checks(results) -> list[FailedCheck]:
    """From a dbt invocation's results: every test that failed or errored (warnings are not failures)."""
    failed = []
    for result in getattr(results, "results", None) or []:
        node = getattr(result, "node", None)  # a run-operation's result has none
        if getattr(node, "resource_type", None) != "test" or str(result.status) not in ("fail", "error"):
            continue
        failures = result.failures if str(result.status) == "fail" else None
        failed.append(
            FailedCheck(check_name(node), failures, result.message or "", getattr(node, "compiled_code", None))
        )
    return failed


def errored_nodes(results) -> list[str]:
    """From a dbt invocation's results: each model, seed or hook that errored, with dbt's message in one
    line ("Database Error in model daily_prices (...)", then PostgreSQL's reason), for an error line that
    says why without the output above it."""
    errored = []
    for result in getattr(results, "results", None) or []:
        if str(result.status) != "error":
            continue
        lines = [line.strip() for line in (result.message or "").splitlines()]
        errored.append(": ".join(line for line in lines if line and not line.startswith("compiled code at")))
    return errored


def add_samples(con, checks: list[FailedCheck], redact) -> None:
    """A few failing rows of each check, read by running the check again (it selects its failing rows).
    `con` is in autocommit: a sample query that fails spoils nothing after it."""
    for check in checks:
        if not check.sql:
            continue
        try:
            with con.cursor() as cur:
                cur.execute(f"select * from ({check.sql}) as failing limit {SAMPLE_ROWS}")
                names = [column.name for column in cur.description]
                check.samples = [{n: redact(str(v)) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]
        except Exception as exc:  # noqa: BLE001 - a sample is a courtesy: the failure is reported either way
            check.samples = [{"error": redact(first_line(exc))}]


def as_report(checks: list[FailedCheck]) -> list[dict]:
    return [{"check": c.name, "failing_rows": c.failures, "message": c.message, "samples": c.samples} for c in checks]
