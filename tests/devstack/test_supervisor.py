"""The dev stack's supervisor with small real children: a SIGKILLed child comes back, a child that
keeps dying stops the stack naming it, and the Temporal server's death stops it at once."""

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from devstack.supervisor import RestartPolicy, StackFailed, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "print('bad config', flush=True); raise SystemExit(3)"]
QUICK = RestartPolicy(first_delay_s=0.05, max_delay_s=0.2, max_deaths=3, window_s=60.0)
PATIENCE_S = 60.0  # a bound for a loaded machine, not a measurement


def poll(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not seen within {PATIENCE_S:g}s"
        time.sleep(0.05)


async def apoll(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not seen within {PATIENCE_S:g}s"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def supervisor(tmp_path: Path, lines: list[str]) -> AsyncIterator[Supervisor]:
    stack = Supervisor(dict(os.environ), tmp_path, tmp_path, lines.append, QUICK)
    try:
        yield stack
    finally:
        stack.stopping.set()
        await stack.stop_all()


def test_the_back_off_doubles_up_to_its_ceiling() -> None:
    policy = RestartPolicy(first_delay_s=1.0, max_delay_s=30.0)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


async def test_a_killed_child_is_restarted_and_the_restart_is_said(tmp_path: Path) -> None:
    lines: list[str] = []
    async with supervisor(tmp_path, lines) as stack:
        stack.start("temporal", SLEEPER, 5.0, essential=True)
        worker = stack.start("worker", SLEEPER, 5.0)
        first_pid = worker.pid
        watch = asyncio.ensure_future(stack.watch())
        os.kill(first_pid, signal.SIGKILL)
        await apoll("the worker restarted", lambda: worker.running and worker.pid != first_pid)
        assert not watch.done(), "one death must not stop the stack"
        assert any(f"worker exited unexpectedly with code {-signal.SIGKILL}" in x for x in lines)
        assert any(x.startswith("stack: restarting worker in 0.05s") for x in lines)
        assert f"stack: restarted worker (pid {worker.pid})" in lines
        stack.stopping.set()
        await watch  # a stop request ends the watch without an error


async def test_a_child_that_keeps_dying_stops_the_stack_naming_it(tmp_path: Path) -> None:
    lines: list[str] = []
    async with supervisor(tmp_path, lines) as stack:
        temporal = stack.start("temporal", SLEEPER, 5.0, essential=True)
        stack.start("sandbox", CRASHER, 5.0)
        with pytest.raises(StackFailed) as failed:
            await stack.watch()
        message = str(failed.value)
        assert message.startswith(
            "stack: sandbox keeps dying (3 exits within 60s, the last with code 3): stopping"
        )
        assert "bad config" in message  # the tail of its log
        # Two restarts, each announced, before the third death gave up.
        assert sum(x.startswith("stack: restarting sandbox") for x in lines) == 2
        assert temporal.running
    assert not temporal.running  # stop_all


async def test_the_temporal_servers_death_stops_the_stack_at_once(tmp_path: Path) -> None:
    lines: list[str] = []
    async with supervisor(tmp_path, lines) as stack:
        temporal = stack.start("temporal", SLEEPER, 5.0, essential=True)
        worker = stack.start("worker", SLEEPER, 5.0)
        watch = asyncio.ensure_future(stack.watch())
        temporal.send(signal.SIGKILL)
        await apoll("the watch gave up", watch.done)
        with pytest.raises(StackFailed) as failed:
            watch.result()
        assert str(failed.value).startswith(
            f"stack: temporal exited unexpectedly with code {-signal.SIGKILL}; "
            "the stack cannot run without it: stopping"
        )
        assert not any("restarting" in x for x in lines)
        assert worker.running
    assert not worker.running


def test_a_child_that_ignores_sigterm_is_killed_after_its_timeout(tmp_path: Path) -> None:
    from service.supervise import Child

    stubborn = [
        sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(600)",
    ]  # fmt: skip
    child = Child("stubborn", stubborn, tmp_path / "stubborn.log", stop_timeout_s=0.5).start()
    poll("the child ignores SIGTERM", lambda: "up" in child.output())
    assert child.stop() is True
    assert child.returncode == -signal.SIGKILL
