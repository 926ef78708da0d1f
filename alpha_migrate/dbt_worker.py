"""`invoke migrate`'s dbt steps in a Python process of their own, one for the run's dbt calls, ended before
the parity starts. When dbt ran in the migrating process, dbt as loaded (its modules and parsed project,
about 140 MB) stayed there, idle, while the parity ran beside it in a process of its own: the two held
392 MB (PSS) at 5 million rows. Now the parity runs in the migrating process once the worker is gone.

The migrating process sends one JSON line per dbt call on the worker's stdin; the worker answers with its
output lines and then one final line. Its stdin is also its lifeline: when the migrating process is gone
(SIGKILL included), the worker exits at once, and PostgreSQL rolls back whatever its sessions had begun, as
it did when dbt ran in the migrating process. It runs in a session of its own, so a terminal's Ctrl-C
reaches only the migrating process, which passes it on once and waits for dbt to stop.
"""

import atexit
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict

from alpha_migrate import apart
from alpha_migrate.checks import ChecksFailed, FailedCheck
from alpha_migrate.dbt import shapes_a_parse
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError, remembered_interrupts

# Set, a worker is kept at `close` for the next run of this process with the same target and environment,
# dbt's import and parse with it, and ended at exit: for a process that runs many migrations, as the test
# suite does in-process. The kept worker then holds dbt's memory while the parity runs; the oldest of more
# than KEPT_AT_MOST is ended.
KEEP_VARIABLE = "ALPHA_DBT_WORKER_KEEP"
KEPT_AT_MOST = 2
_kept: dict[tuple, tuple[subprocess.Popen, object]] = {}


class DbtWorker:
    """The migrating process's side. `run` as `run_dbt`; `close` when the run's dbt calls are done. `prepare`
    starts the worker's import of dbt and parse of the project while the run does other work: its outcome
    is read, and its lines echoed, by the next `run`."""

    def __init__(self, target: Target) -> None:
        self.target = target
        # A kept worker serves only a run that would start one with the same target and the same variables
        # for dbt (those that shape its parse, dbt.py).
        shaping = sorted((name, value) for name, value in os.environ.items() if shapes_a_parse(name))
        self._key = (target.uri(show_password=True), tuple(shaping))
        self._process: subprocess.Popen | None = None
        self._errors = None  # the worker's stray output, for a crash's last line
        self._in_call = self._signalled = self._prepared = False
        self._errors_from = 0

    def prepare(self, args: list[str], env: dict[str, str]) -> None:
        """Parse the project for calls with these `--vars` (in `args`) and `env`, without waiting."""
        self._send({"args": args, "env": env, "parse_only": True})
        self._prepared = True

    def run(self, args: list[str], env: dict[str, str], echo, echo_errors) -> None:
        if self._prepared:
            self._prepared = False
            self._receive(echo, echo_errors)
        self._send({"args": args, "env": env})
        self._receive(echo, echo_errors)

    def _send(self, request: dict) -> None:
        if self._process is None:
            self._process, self._errors = _kept.pop(self._key, (None, None))
        if self._process is None:
            self._start()
        # Until its answer is read: a worker left mid-call, or signalled, is not kept.
        self._in_call, self._signalled = True, False
        self._errors_from = os.fstat(self._errors.fileno()).st_size
        try:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        except OSError:
            pass  # the worker is gone: reading its answer says so

    def _receive(self, echo, echo_errors) -> None:
        try:
            answer = self._answer(echo, echo_errors)
        except BaseException:
            # Leaving mid-call (a console that cannot be written to, ...): dbt must not go on publishing
            # behind the run's back, so its process ends first and PostgreSQL rolls back what it began.
            self._kill()
            raise
        self._in_call = False
        if answer is None:
            if self._signalled:
                raise KeyboardInterrupt
            raise MigrationError(f"dbt stopped unexpectedly: {self._errors_since(self._errors_from)}")
        if self._signalled or "interrupted" in answer:
            raise KeyboardInterrupt
        if "checks" in answer:
            raise ChecksFailed([FailedCheck(**check) for check in answer["checks"]], answer["command"])
        if "error" in answer:
            raise MigrationError(answer["error"])

    def _start(self) -> None:
        self._errors = tempfile.TemporaryFile("w+")
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                text=True,
                env=apart.child_environment(self.target),
                start_new_session=True,
            )
        except BaseException:
            self._errors.close()
            self._errors = None
            raise

    def _answer(self, echo, echo_errors) -> dict | None:
        """The worker's lines passed on until its answer; None if it ended without one. Ctrl-C anywhere in
        here is passed on: once, dbt cancels its queries and answers; twice, the operator insists."""
        while True:
            try:
                line = self._process.stdout.readline()
                if not line:
                    self._process.wait()
                    return None
                try:
                    message = json.loads(line)
                except ValueError:  # a line cut short: the worker was killed while writing it
                    self._kill()
                    return None
                if "line" in message:
                    echo(message["line"])
                elif "error_line" in message:
                    echo_errors(message["error_line"])
                else:
                    return message
            except KeyboardInterrupt:
                self._process.send_signal(signal.SIGKILL if self._signalled else signal.SIGINT)
                self._signalled = True

    def _kill(self) -> None:
        self._process.kill()
        self._process.wait()

    def close(self) -> None:
        if self._process is None:
            return
        settled = not self._in_call and not self._signalled and self._process.poll() is None
        if os.environ.get(KEEP_VARIABLE) and settled and self._key not in _kept:
            _kept[self._key] = (self._process, self._errors)
            while len(_kept) > KEPT_AT_MOST:
                _end(*_kept.pop(next(iter(_kept))))
        else:
            _end(self._process, self._errors)
        self._process = self._errors = None

    def __enter__(self) -> "DbtWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _errors_since(self, offset: int) -> str:
        """The last line the worker wrote to its errors during this call, else how it ended."""
        self._errors.seek(offset)
        lines = [line.strip() for line in self._errors.read().splitlines() if line.strip()]
        if lines:
            return self.target.redact(lines[-1])
        code = self._process.returncode
        return f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"


def _end(process: subprocess.Popen, errors) -> None:
    try:
        process.stdin.close()  # the worker exits on it
    except OSError:
        pass  # it is gone already, with a request unsent
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()
    errors.close()


@atexit.register
def _end_kept() -> None:
    while _kept:
        _end(*_kept.popitem()[1])


def _serve() -> None:
    """The worker's side: each request's dbt call, its lines, then its outcome."""
    from alpha_migrate.dbt import run_dbt  # dbt is imported here, in the worker only

    target = apart.child_target()
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a library's print must not look like an answer
    requests: queue.Queue = queue.Queue()

    def read_requests() -> None:
        for line in sys.stdin:
            requests.put(json.loads(line))
        os._exit(0)  # the migrating process closed the pipe, or is gone

    threading.Thread(target=read_requests, daemon=True).start()

    def send(**answer) -> None:
        answers.write(json.dumps(answer) + "\n")

    with remembered_interrupts() as interrupted:
        while True:
            request = None
            try:
                request = requests.get()
                interrupted.clear()
                run_dbt(
                    request["args"],
                    target,
                    lambda line: send(line=line),
                    request["env"],
                    lambda line: send(error_line=line),
                    request.get("parse_only", False),
                )
                if interrupted.is_set():
                    raise KeyboardInterrupt
                answer = {"done": True}
            except ChecksFailed as exc:
                answer = {"checks": [asdict(check) for check in exc.checks], "command": exc.command}
            except MigrationError as exc:
                answer = {"error": str(exc)}
            except KeyboardInterrupt:
                answer = {"interrupted": True}
            if request is not None:  # a Ctrl-C between calls has no call to answer for
                send(**answer)


if __name__ == "__main__":
    _serve()
