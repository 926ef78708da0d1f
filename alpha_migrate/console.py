"""What the operator sees while a run works: numbered steps, a progress bar where rows move, the outcome
of each step; the detail (dbt's node lines, the parity table, timings) goes to the run's log, and to the
screen too with --verbose."""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm


class Console:
    def __init__(self, steps: int, stream=None, verbose: bool = False) -> None:
        self.steps = steps
        self.done = 0
        self.stream = stream or sys.stdout
        self.verbose = verbose
        self.timings: dict[str, float] = {}
        self._log = None

    def open_log(self, path: Path) -> None:
        """Appended to: a run given an earlier run's report path keeps that run's log above its own."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._log = path.open("a", encoding="utf-8")

    def say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
        self._write_log(text)

    def detail(self, text: str) -> None:
        if self.verbose:
            print(text, file=self.stream, flush=True)
        self._write_log(text)

    def _write_log(self, text: str) -> None:
        if self._log is not None:
            self._log.write(text + "\n")
            self._log.flush()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    @contextmanager
    def step(self, name: str, what: str) -> Iterator[None]:
        self.done += 1
        self.say(f"[{self.done}/{self.steps}] {what}")
        started = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - started, 3)
        self.detail(f"      {name} done in {self.timings[name]:.2f} s")

    @contextmanager
    def progress(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        """Yields `advance(rows)`: a bar with rows and rate on a terminal; elsewhere a log line per call."""
        on_terminal = self.stream.isatty()
        bar = tqdm(
            total=total,
            desc=f"      {label}",
            unit=" rows",
            unit_scale=True,
            file=self.stream,
            disable=not on_terminal,
            leave=False,
        )
        moved = 0

        def advance(rows: int) -> None:
            nonlocal moved
            moved += rows
            bar.update(rows)
            if not on_terminal:
                self._write_log(f"      {label}: {moved:,}/{total:,} rows")

        try:
            yield advance
        finally:
            bar.close()
