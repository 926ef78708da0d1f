"""The one exception type the command line turns into a single line and a non-zero exit, and Ctrl-C remembered."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class MigrationError(Exception):
    """A problem the operator can fix: the message names it and says what to do."""


class Interrupted(MigrationError):
    """Ctrl-C: the message says whether the target changed."""


def first_line(exc: BaseException) -> str:
    """An exception's first line for a one-line message; its type's name when it has no text (DuckDB
    raised a TypeMismatchException without one on a source whose text is not UTF-8)."""
    text = str(exc).strip()
    # DuckDB's postgres extension puts the statement it ran first, over many lines, and PostgreSQL's own
    # error after it: that error is the line to show.
    if text.startswith('Failed to execute query "') and '": ERROR:' in text:
        return "PostgreSQL: " + text.split('": ERROR:', 1)[1].strip().splitlines()[0]
    lines = text.splitlines()
    return lines[0] if lines else type(exc).__name__


@contextmanager
def remembered_interrupts() -> Iterator[threading.Event]:
    """Ctrl-C raises KeyboardInterrupt wherever Python is, and a library's broad `except` can swallow it
    (a run under load once went on to its end). Remembered in the event as well, it stops the run (or the
    dbt worker's call) at its next check at the latest."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def on_interrupt(signum, frame) -> None:
        pressed.set()
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
