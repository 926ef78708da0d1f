"""How commands end: one line on stderr and a non-zero exit for any failure, a traceback only with --debug."""

import sys
from collections.abc import Callable

from invoke.exceptions import Exit

from alpha_migrate.dsn import redact_secrets
from alpha_migrate.errors import Interrupted, MigrationError


def guarded(action: Callable[[], object], debug: bool = False) -> object:
    try:
        return action()
    except Interrupted as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise Exit(code=130) from None
    except MigrationError as exc:
        if debug:
            raise
        print(f"error: {exc}{_advice(str(exc))}", file=sys.stderr)
        raise Exit(code=1) from None
    except KeyboardInterrupt:
        # A migration says itself whether it had published (Interrupted, above).
        print("error: interrupted", file=sys.stderr)
        raise Exit(code=130) from None
    except Exception as exc:
        if debug:
            raise
        detail = redact_secrets(str(exc)).strip().splitlines()
        print(
            f"error: unexpected {type(exc).__name__}: {detail[0] if detail else ''} (rerun with --debug for details)",
            file=sys.stderr,
        )
        raise Exit(code=1) from None


# PostgreSQL's reasons that a setting of the target's, not the data, stopped the run, with what to do. The
# text is PostgreSQL's own, however it reached us (DuckDB's extension, dbt, psycopg2).
_SETTING_ADVICE = {
    "canceling statement due to statement timeout": (
        "the target's statement_timeout ended a bulk statement: run with PGOPTIONS='-c statement_timeout=0',"
        " which every session of the run reads, or as a role without one"
    ),
}


def _advice(message: str) -> str:
    return "".join(f" ({advice})" for reason, advice in _SETTING_ADVICE.items() if reason in message)
