"""Child processes: start one with its output appended to a log file, wait until it is ready, stop it.

One implementation for every program that runs others: the dev stack (`make run`), the benchmark,
the end-to-end test stack and the screenshot tool. A child runs in its own process group unless
asked otherwise, so a terminal's Ctrl-C reaches only its parent, which then stops the child and
anything the child started: the signal (SIGTERM unless another is asked for) goes to the whole
group, and SIGKILL follows when the child outlives its stop timeout.

Boundary: processes, their logs and readiness waits. What to start, in which order, and what to do
when a child dies belong to the caller.
"""

import asyncio
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import httpx

from domain.moments import local_stamp

T = TypeVar("T")
LOG_TAIL_LINES = 20


class ChildExited(RuntimeError):
    """A child ended while it was expected to run; the message names it and its exit code."""

    def __init__(self, child: "Child") -> None:
        super().__init__(f"{child.name} exited with code {child.returncode}")
        self.child = child


class NotReady(RuntimeError):
    """A child did not become ready in time; the message says what was awaited and the last error."""


def _no_check() -> None:
    return None


@dataclass
class Child:
    """One child process. `start` may be called again once it has exited (a restart)."""

    name: str
    command: list[str]
    log: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    stop_timeout_s: float = 10.0
    # False: the child stays in our process group (a terminal's Ctrl-C reaches it too).
    own_group: bool = True
    # A `=== <time> <command>` line before each start's output, to tell the runs apart.
    log_header: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    log_offset: int = field(default=0, init=False)  # where the current run's output starts

    def start(self) -> "Child":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.log_offset = out.tell()
            if self.log_header:
                out.write(
                    f"\n=== {local_stamp(datetime.now())} {shlex.join(self.command)}\n".encode()
                )
                out.flush()
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=None if self.env is None else dict(self.env),
                cwd=self.cwd,
                process_group=0 if self.own_group else None,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check(self) -> None:
        """Raise `ChildExited` if the child has ended."""
        if self.process is not None and self.process.poll() is not None:
            raise ChildExited(self)

    def output(self) -> str:
        """What the current run has written to its log so far."""
        with self.log.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the current run wrote, indented, for a report about its end."""
        return "\n".join(f"    {line}" for line in self.output().splitlines()[-lines:])

    def send(self, sig: signal.Signals) -> None:
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            if self.own_group:
                os.killpg(self.pid, sig)  # started as its group's leader
            else:
                os.kill(self.pid, sig)

    def wait(self, timeout_s: float | None = None) -> int:
        """The exit status, once the child has ended (`subprocess.TimeoutExpired` past timeout)."""
        assert self.process is not None, f"{self.name} was never started"
        return self.process.wait(timeout_s)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float | None = None) -> bool:
        """`sig`, then SIGKILL once the stop timeout has passed; True if it had to be killed."""
        if not self.running:
            return False
        self.send(sig)
        try:
            self.wait(self.stop_timeout_s if timeout_s is None else timeout_s)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            self.wait()
            return True
        return False

    async def stop_async(self, sig: signal.Signals = signal.SIGTERM) -> bool:
        return await asyncio.to_thread(self.stop, sig)


def wait_until(
    what: str,
    ready: Callable[[], bool],
    *,
    timeout_s: float,
    check: Callable[[], None] = _no_check,
    interval_s: float = 0.2,
) -> None:
    """Call `ready` until it returns True (an exception counts as not yet). `check` runs before
    each try and raises to give up early (typically `Child.check`); `NotReady` past the timeout."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while True:
        check()
        try:
            if ready():
                return
        except Exception as error:  # not up yet: refused, timed out, not ready
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() > deadline:
            raise NotReady(f"{what} did not answer within {timeout_s:g}s ({last})")
        time.sleep(interval_s)


async def until_ready(
    what: str,
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float,
    check: Callable[[], None] = _no_check,
    interval_s: float = 0.5,
    probe_timeout_s: float = 5.0,
) -> T:
    """`wait_until` for an async `probe`, which answers a value once the child is ready."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while True:
        check()
        try:
            result = await asyncio.wait_for(probe(), probe_timeout_s)
            if result is not None:
                return result
        except Exception as error:  # not up yet: refused, timed out, not ready
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() > deadline:
            raise NotReady(f"{what} did not answer within {timeout_s:g}s ({last})")
        await asyncio.sleep(interval_s)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True once something accepts connections on `host:port`."""
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str, timeout_s: float = 1.0) -> bool:
    """True once `GET url` answers 200."""
    return httpx.get(url, timeout=timeout_s).status_code == 200


async def http_answers(url: str, timeout_s: float = 2.0) -> bool | None:
    """`http_ok` for `until_ready`: True once `GET url` answers 200, None before."""
    async with httpx.AsyncClient(timeout=timeout_s) as http:
        response = await http.get(url)
    return True if response.status_code == 200 else None
