"""Run dbt against a target, with the connection passed through profiles.example.yml's variables."""

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alpha_migrate.checks import ChecksFailed, errored_nodes, failed_checks
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError
from alpha_migrate.paths import DBT_PROFILES_DIR, PROFILES_EXAMPLE, PROJECT_DIR

# dbt's sessions classify, join and sort millions of rows: in memory that is 30% faster than spilling at
# the 4 MB default. Index builds set their own maintenance_work_mem (macros/indexes). A double's text is
# its shortest exact decimal whatever the server's default, as alpha_to_numeric expects (docs/design.md).
# The tables they read are in memory or on SSD: at the default random_page_cost (4) a sync's scoped tests
# read all of stg_daily_prices instead of its keys' index (at 5 million rows 1.1 s against 0.4 a test).
SESSION_OPTIONS = "-c work_mem=256MB -c extra_float_digits=1 -c random_page_cost=1.1"
# Read when dbt runs, not when it parses: the run's id (macros/quarantine), and the loaded rows its
# reconciliation counted, for the publish (macros/publish/publish_table.sql).
RUN_ID_VARIABLE, LOADED_ROWS_VARIABLE = "ALPHA_RUN_ID", "ALPHA_LOADED_ROWS"


def dbt_environment(target: Target) -> dict[str, str]:
    options = f"{SESSION_OPTIONS} {os.environ.get('PGOPTIONS', '')}".strip()
    return {**os.environ, **target.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PGOPTIONS": options}


def ensure_profiles() -> Path:
    """The pipeline and sqlfluff use the very profile analysts copy, so all connect the same way."""
    DBT_PROFILES_DIR.mkdir(parents=True, exist_ok=True)
    profiles = DBT_PROFILES_DIR / "profiles.yml"
    if not profiles.exists() or profiles.read_bytes() != PROFILES_EXAMPLE.read_bytes():
        # Renamed into place: a dbt run starting meanwhile in another process reads the old file or the new.
        staged = profiles.with_name(f".profiles.{os.getpid()}.yml")
        shutil.copyfile(PROFILES_EXAMPLE, staged)
        os.replace(staged, profiles)
    return DBT_PROFILES_DIR


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """dbt reads its profile's variables and ours (ALPHA_RUN_ID) from the process environment, and
    records the process's command line in its artifacts: ours may hold a --dsn with a password."""
    saved, saved_argv = dict(os.environ), sys.argv
    os.environ.update(variables)
    sys.argv = ["dbt"]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sys.argv = saved_argv


# Parsed projects, by everything that shapes a parse (environment and --vars): a run's dbt calls share one.
_manifests: dict[tuple, object] = {}


def shapes_a_parse(variable: str) -> bool:
    """The variables the project, its profile, dbt and libpq read (env_var() in profiles.example.yml,
    dbt_project.yml and the macros; DBT_* flags; PG*), but not those read only when dbt runs, which
    change at every run. Others change under a caller without changing the project: PYTEST_CURRENT_TEST
    does at every test."""
    return variable not in (RUN_ID_VARIABLE, LOADED_ROWS_VARIABLE) and variable.startswith(
        ("ALPHA_", "DBT_", "PG", "USER")
    )


def _behavior_flag_source() -> str:
    """dbt_common's BehaviorFlagRendered names the module that declared a flag (for a warning's text)
    with inspect.stack(), which reads the source file of every frame on the stack: once per flag and
    per dbt call. Under pytest that took 73 ms a call, half the CPU of a test module. The module's
    name is on each frame already."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != "dbt_common.behavior_flags":
            return name
        frame = frame.f_back
    return "Unknown"


def _install_cheap_behavior_flag_source() -> None:
    from dbt_common import behavior_flags

    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(_behavior_flag_source)


def run_dbt(
    args: list[str],
    target: Target,
    echo=print,
    env: dict[str, str] | None = None,
    echo_errors=None,
    parse_only: bool = False,
) -> None:
    """Run `dbt ARGS` (with `env` added to its environment), echoing its lines indented (its error lines
    through `echo_errors`, when given); raise MigrationError when it fails. `parse_only`: only parse the
    project for the calls to come with the same `--vars` and environment.

    In this process, not as a command: a dbt command spends 3 s importing dbt and 1 to 3 s parsing the
    project before it does anything, and a sync makes three calls that each do seconds of work. The
    project is parsed once per run and the manifest handed to each call.
    """
    from dbt.cli.main import dbtRunner

    _install_cheap_behavior_flag_source()
    ensure_profiles()
    variables = {**dbt_environment(target), **(env or {})}
    vars_args = args[args.index("--vars") : args.index("--vars") + 2] if "--vars" in args else []
    key = (tuple(sorted((k, v) for k, v in variables.items() if shapes_a_parse(k))), tuple(vars_args))

    def show(event) -> None:
        if event.info.level in ("info", "warn", "error"):
            out = echo_errors if event.info.level == "error" and echo_errors else echo
            for line in event.info.msg.splitlines() or [""]:
                out("      " + target.redact(line.rstrip()))

    def invoke(command: list[str], manifest=None):
        runner = dbtRunner(manifest=manifest, callbacks=[show])
        # --no-write-json: the results are read from the call itself; writing manifest.json and
        # run_results.json took 0.4-0.8 s of each call.
        common = ["--no-use-colors", "--log-level", "none", "--no-write-json", "--project-dir", str(PROJECT_DIR)]
        result = runner.invoke([*command, *common, "--profiles-dir", str(DBT_PROFILES_DIR)])
        if isinstance(result.exception, KeyboardInterrupt):
            raise KeyboardInterrupt  # dbt caught the operator's Ctrl-C: the run stops, as asked
        if not result.success:
            checks = failed_checks(result.result)
            if checks:
                raise ChecksFailed(checks, command[0])
            # dbt's message spans lines ("Database Error", then libpq's reason): the error is one line.
            detail = [line.strip() for line in target.redact(str(result.exception or "")).splitlines() if line.strip()]
            detail = detail or [target.redact(node) for node in errored_nodes(result.result)[:1]]
            reason = f": {': '.join(detail)}" if detail else ": see its output above"
            raise MigrationError(f"dbt {command[0]} failed{reason}")
        return result

    with environment(variables):
        if key not in _manifests:
            _manifests[key] = invoke(["parse", *vars_args]).result
        if not parse_only:
            invoke(args, _manifests[key])
