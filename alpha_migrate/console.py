"""What the operator sees while a run works: numbered steps with timings, and a progress line."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Console:
    def __init__(self, steps: int, stream=None) -> None:
        self.steps = steps
        self.done = 0
        self.stream = stream or sys.stdout
        self.timings: dict[str, float] = {}

    def say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    @contextmanager
    def step(self, name: str, what: str) -> Iterator[None]:
        self.done += 1
        self.say(f"[{self.done}/{self.steps}] {what}")
        started = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - started, 3)
        self.say(f"      {name} done in {self.timings[name]:.2f} s")

    def progress(self, label: str, done: int, total: int) -> None:
        """One line per update off a terminal; a line redrawn in place on one."""
        percent = 100.0 * done / total if total else 100.0
        line = f"      {label}: {done:,}/{total:,} rows ({percent:5.1f}%)"
        if self.stream.isatty():
            end = "\n" if done >= total else ""
            print("\r" + line, end=end, file=self.stream, flush=True)
        else:
            self.say(line)
