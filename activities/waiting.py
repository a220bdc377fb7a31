"""Short waits inside a checking activity: re-read until the answer changes or the wait is over.

Used only for waits shorter than a durable timer can express (see `domain.steps.CheckStep`);
anything longer is a timer in the workflow. Heartbeats on every look so a cancelled activity
stops promptly.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import activity

T = TypeVar("T")

# How often to look again while waiting: the platform is asked at most 20 times a second.
RECHECK_S = 0.05


async def recheck_until(
    read: Callable[[], Awaitable[T]], settled: Callable[[T], bool], wait_s: float
) -> T:
    """`read()` until `settled(answer)` or `wait_s` seconds have passed; the last answer."""
    deadline = time.monotonic() + max(wait_s, 0.0)
    while True:
        answer = await read()
        remaining = deadline - time.monotonic()
        if settled(answer) or remaining <= 0:
            return answer
        activity.heartbeat()
        await asyncio.sleep(min(RECHECK_S, remaining))
