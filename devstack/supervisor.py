"""The dev stack's supervisor: its children started in order, restarted when they die, stopped in
reverse order.

Policy: while the stack comes up, any child that exits stops it (a start-up failure is a
configuration problem, and the stack cannot be ready without the child). Once it is up, a child
that dies is restarted after a back-off that doubles with each death (`RestartPolicy`), every
step printed; the stack stops only when an essential child dies (the Temporal server: nothing runs
without it, and the worker's and ingress's connections would only be left retrying) or when a
child keeps dying (`max_deaths` exits within `window_s`), with a line saying which and why.
Ctrl-C or SIGTERM sets `stopping`; `stop_all` then stops the children in reverse order.

Boundary: the restart policy and the bookkeeping of deaths; processes are `service.supervise`'s,
what to start and how to tell it is ready are `devstack.stack`'s.
"""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service.supervise import Child

POLL_S = 0.2  # how often the watch looks at its children


@dataclass(frozen=True)
class RestartPolicy:
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    # A child that exits this many times within the window keeps dying: the stack stops.
    max_deaths: int = 5
    window_s: float = 300.0

    def delay(self, recent_deaths: int) -> float:
        """The pause before restarting a child that died `recent_deaths` times in the window."""
        return float(min(self.first_delay_s * 2 ** (recent_deaths - 1), self.max_delay_s))


class StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived while starting."""


class StackFailed(Exception):
    """The stack must stop; the message says which child and why (one or more lines)."""


@dataclass
class Supervised:
    child: Child
    essential: bool
    deaths: deque[float] = field(default_factory=deque)  # monotonic times, within the window
    restart_at: float | None = None  # monotonic time of a pending restart


class Supervisor:
    def __init__(
        self,
        env: Mapping[str, str],
        log_dir: Path,
        cwd: Path,
        say: Callable[[str], None],
        policy: RestartPolicy = RestartPolicy(),
    ) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.cwd = cwd
        self.say = say
        self.policy = policy
        self.children: list[Supervised] = []
        self.stopping = asyncio.Event()

    def start(
        self, name: str, command: list[str], stop_timeout_s: float, *, essential: bool = False
    ) -> Child:
        child = Child(
            name, command, self.log_dir / f"{name}.log", env=self.env, cwd=self.cwd,
            stop_timeout_s=stop_timeout_s, log_header=True,
        ).start()  # fmt: skip
        self.children.append(Supervised(child, essential))
        self.say(f"stack: started {name} (pid {child.pid}), log {child.log}")
        return child

    def check(self) -> None:
        """While starting: raise if a stop was requested or a child has exited."""
        for supervised in self.children:
            child = supervised.child
            if not child.running:
                raise StackFailed(self._report(child, self._exited(child)))
        if self.stopping.is_set():
            raise StopRequested

    async def watch(self) -> None:
        """Keep the children running until a stop request (returns) or a reason to stop the
        stack (raises `StackFailed`)."""
        while not self.stopping.is_set():
            now = time.monotonic()
            for supervised in self.children:
                child = supervised.child
                if supervised.restart_at is not None:
                    if now >= supervised.restart_at:
                        supervised.restart_at = None
                        child.start()
                        self.say(f"stack: restarted {child.name} (pid {child.pid})")
                elif not child.running:
                    self._died(supervised, now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), POLL_S)

    def _died(self, supervised: Supervised, now: float) -> None:
        child, policy = supervised.child, self.policy
        if supervised.essential:
            head = f"{self._exited(child)}; the stack cannot run without it: stopping"
            raise StackFailed(self._report(child, head))
        deaths = supervised.deaths
        deaths.append(now)
        while deaths and deaths[0] < now - policy.window_s:
            deaths.popleft()
        if len(deaths) >= policy.max_deaths:
            head = (
                f"stack: {child.name} keeps dying ({len(deaths)} exits within "
                f"{policy.window_s:g}s, the last with code {child.returncode}): stopping"
            )
            raise StackFailed(self._report(child, head))
        delay = policy.delay(len(deaths))
        supervised.restart_at = now + delay
        self.say(self._report(child, self._exited(child)))
        self.say(
            f"stack: restarting {child.name} in {delay:g}s "
            f"(exit {len(deaths)} of at most {policy.max_deaths - 1} within {policy.window_s:g}s)"
        )

    @staticmethod
    def _exited(child: Child) -> str:
        return f"stack: {child.name} exited unexpectedly with code {child.returncode}"

    @staticmethod
    def _report(child: Child, head: str) -> str:
        return f"{head}\nstack: last lines of {child.log}:\n{child.tail()}"

    async def stop_all(self) -> None:
        for supervised in reversed(self.children):
            supervised.restart_at = None
            child = supervised.child
            if await child.stop_async():
                self.say(
                    f"stack: {child.name} did not stop within {child.stop_timeout_s:g}s, killed it"
                )
