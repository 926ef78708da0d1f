"""The one exception type the command line turns into a single line and a non-zero exit."""


class MigrationError(Exception):
    """A problem the operator can fix: the message names it and says what to do."""


class Interrupted(MigrationError):
    """Ctrl-C: the message says whether the target changed."""
