"""Run a command as a child process and measure it: wall seconds and peak memory, two ways.

os.wait4 returns the child's resource usage, whose ru_maxrss is the largest resident set of the child
and every process it waited for (dbt's, for `invoke migrate`): the largest process, whatever ran it.
Beside it, every SAMPLE_SECONDS, the PSS of all the processes of the child's tree is summed (each shared
page counted once, split between the processes that map it): what the client takes at once.
"""

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from alpha_migrate.dbt_worker import KEEP_VARIABLE

SAMPLE_SECONDS = 0.1


@dataclass
class Measured:
    returncode: int
    seconds: float
    peak_rss_mb: float
    output: str
    peak_tree_pss_mb: float = 0.0


def run_measured(command: list[str], log: Path, env: dict | None = None) -> Measured:
    log.parent.mkdir(parents=True, exist_ok=True)
    # Measured as an operator runs it: a worker kept for the test suite's in-process runs would hold dbt.
    child_env = {name: value for name, value in os.environ.items() if name != KEEP_VARIABLE} | (env or {})
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=child_env)
        peak, done = [0], threading.Event()
        sampler = threading.Thread(target=_sample_tree_pss, args=(process.pid, peak, done), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        process.returncode,
        round(time.perf_counter() - started, 2),
        round(usage.ru_maxrss / 1024, 1),
        log.read_text(),
        round(peak[0] / 1024, 1),
    )


def _sample_tree_pss(root: int, peak: list[int], done: threading.Event) -> None:
    while not done.wait(SAMPLE_SECONDS):
        peak[0] = max(peak[0], tree_pss_kb(root))


def tree_pss_kb(root: int) -> int:
    """The summed PSS, in kB, of `root` and its descendants now (0 for a process gone meanwhile)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            continue
    return total
