"""A step of `invoke migrate` in a Python process of its own (the staging copy's read-back; dbt's steps have
a protocol of their own, alpha_migrate/dbt_worker.py, and share this module's connection string):
started with the run's target and one JSON argument, it answers with one JSON line. The connection
string travels in the child's environment, which only its owner can read, not in its command line,
which anyone can."""

import json
import os
import subprocess
import sys
from collections.abc import Callable

from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError

_DSN_VARIABLE = "ALPHA_APART_DSN"


def child_environment(target: Target) -> dict[str, str]:
    """This process's environment, with the connection string for `child_target`."""
    return {**os.environ, _DSN_VARIABLE: target.uri(show_password=True)}


def child_target() -> Target:
    return Target.parse(os.environ[_DSN_VARIABLE])


def start(module: str, argument, target: Target) -> subprocess.Popen:
    """`python -m module ARGUMENT` (as JSON), its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", module, json.dumps(argument)],
        env=child_environment(target),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def answer(process: subprocess.Popen, target: Target, step: str) -> dict:
    """Wait for `process` and return its answer, the last line it printed (a library may print before
    it); Ctrl-C meanwhile stops it, silently. One line if it failed: `step` stopped unexpectedly, with
    the last line of its errors, or the error it answered."""
    try:
        out, err = process.communicate()
    except BaseException:
        stop(process)
        raise
    lines = out.strip().splitlines()
    if process.returncode != 0 or not lines:
        detail = target.redact((err.strip().splitlines() or ["no output"])[-1])
        raise MigrationError(f"{step} stopped unexpectedly: {detail}")
    result = json.loads(lines[-1])
    if "error" in result:
        raise MigrationError(result["error"])
    return result


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.communicate()


def serve(work: Callable[[Target, dict], dict]) -> None:
    """The child's side: print `work(target, argument)`, or the MigrationError it raised, as one JSON line."""
    target = child_target()
    try:
        result = work(target, json.loads(sys.argv[1]))
    except MigrationError as exc:
        result = {"error": str(exc)}
    print(json.dumps(result))
