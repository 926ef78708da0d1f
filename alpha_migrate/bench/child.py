"""Run a command as a child process and measure it: wall seconds and peak resident memory.

os.wait4 returns the child's resource usage, whose ru_maxrss is the largest resident set of the child
and every process it waited for (dbt, for `invoke migrate`): the client's peak, whatever ran it.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    returncode: int
    seconds: float
    peak_rss_mb: float
    output: str


def run_measured(command: list[str], log: Path, env: dict | None = None) -> Measured:
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        process.returncode, round(time.perf_counter() - started, 2), round(usage.ru_maxrss / 1024, 1), log.read_text()
    )
