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
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError


class DbtWorker:
    """The migrating process's side. `run` as `run_dbt`; `close` when the run's dbt calls are done."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._errors = tempfile.TemporaryFile("w+")  # the worker's stray output, for a crash's last line
        self._process: subprocess.Popen | None = None

    def run(self, args: list[str], env: dict[str, str], echo, echo_errors) -> None:
        if self._process is None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                text=True,
                env=apart.child_environment(self.target),
                start_new_session=True,
            )
        self._process.stdin.write(json.dumps({"args": args, "env": env}) + "\n")
        self._process.stdin.flush()
        interrupts = 0
        while True:
            try:
                line = self._process.stdout.readline()
            except KeyboardInterrupt:
                interrupts += 1
                # Once: dbt cancels its queries and answers. Twice: the operator insists.
                self._process.send_signal(signal.SIGINT if interrupts == 1 else signal.SIGKILL)
                continue
            if not line:
                self._process.wait()
                if interrupts:
                    raise KeyboardInterrupt
                raise MigrationError(f"dbt stopped unexpectedly: {self._last_error_line()}")
            message = json.loads(line)
            if "line" in message:
                echo(message["line"])
            elif "error_line" in message:
                echo_errors(message["error_line"])
            elif interrupts or "interrupted" in message:
                raise KeyboardInterrupt
            elif "checks" in message:
                raise ChecksFailed([FailedCheck(**check) for check in message["checks"]], message["command"])
            elif "error" in message:
                raise MigrationError(message["error"])
            else:
                return

    def close(self) -> None:
        if self._process is not None:
            self._process.stdin.close()  # the worker exits on it
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
            self._process = None
        self._errors.close()

    def __enter__(self) -> "DbtWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _last_error_line(self) -> str:
        self._errors.seek(0)
        lines = [line.strip() for line in self._errors.read().splitlines() if line.strip()]
        return self.target.redact(lines[-1] if lines else "no output")


def _serve() -> None:
    """The worker's side: each request's dbt call, its lines, then its outcome."""
    from alpha_migrate.dbt import run_dbt

    target = apart.child_target()
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a library's print must not look like an answer
    requests: queue.Queue = queue.Queue()

    def read_requests() -> None:
        for line in sys.stdin:
            requests.put(json.loads(line))
        os._exit(0)  # the migrating process closed the pipe, or is gone

    threading.Thread(target=read_requests, daemon=True).start()
    interrupted = threading.Event()

    def on_interrupt(signum, frame) -> None:
        interrupted.set()  # remembered: a library's broad `except` may swallow the KeyboardInterrupt
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, on_interrupt)

    def send(**answer) -> None:
        answers.write(json.dumps(answer) + "\n")

    while True:
        request = requests.get()
        try:
            run_dbt(
                request["args"],
                target,
                lambda line: send(line=line),
                request["env"],
                lambda line: send(error_line=line),
            )
            if interrupted.is_set():
                raise KeyboardInterrupt
            send(done=True)
        except ChecksFailed as exc:
            send(checks=[asdict(check) for check in exc.checks], command=exc.command)
        except MigrationError as exc:
            send(error=str(exc))
        except KeyboardInterrupt:
            send(interrupted=True)
        interrupted.clear()


if __name__ == "__main__":
    _serve()
