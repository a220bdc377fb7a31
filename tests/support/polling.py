"""Waiting in tests: poll a condition until it holds or a deadline passes, then fail naming it.

Every test that waits for something another process or a workflow does goes through here, never
through a fixed sleep followed by an assertion: on a loaded machine a fixed sleep is either too
short (a spurious failure) or needlessly long. The deadlines are generous on purpose; they only
bound how long a broken run takes to be reported, they never decide a verdict on a healthy one.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# How long a wait may take before the test reports the condition as never reached. Generous:
# a 2-core machine with both cores busy runs everything several times slower than an idle one.
DEFAULT_WITHIN_S = 120.0


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    *,
    what: str,
    within: float = DEFAULT_WITHIN_S,
    every: float = 0.2,
) -> T:
    """Call `probe` every `every` seconds until `until(value)`; that value, or AssertionError
    naming `what` and the last value seen after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await probe()
        if until(value):
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"never saw {what} within {within:g}s; last seen: {value!r}")
        await asyncio.sleep(every)


def eventually_sync(
    probe: Callable[[], T],
    until: Callable[[T], bool],
    *,
    what: str,
    within: float = DEFAULT_WITHIN_S,
    every: float = 0.2,
) -> T:
    """`eventually` for synchronous code (process start-up, files, plain HTTP)."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if until(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"never saw {what} within {within:g}s; last seen: {value!r}")
        time.sleep(every)
