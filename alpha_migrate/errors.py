"""The one exception type the command line turns into a single line and a non-zero exit."""


class MigrationError(Exception):
    """A problem the operator can fix: the message names it and says what to do."""


class Interrupted(MigrationError):
    """Ctrl-C: the message says whether the target changed."""


def first_line(exc: BaseException) -> str:
    """An exception's first line for a one-line message; its type's name when it has no text (DuckDB
    raised a TypeMismatchException without one on a source whose text is not UTF-8)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
