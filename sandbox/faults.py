"""Fault injection: the global switch (error rate, added latency) and the `flaky` app token.

Boundary: decides, per non-admin call, whether it answers 503 and when; never touches the store.
This is the only place where the sandbox uses randomness (an injectable `random.Random`), so
timings and scenarios stay deterministic while faults look like real ones.

For a mutating call, half of the injected failures happen *after* the effect was applied and its
response stored: the caller cannot tell the two apart, which is exactly what makes its retry (same
idempotency key) prove that the effect is applied once.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from enum import Enum

from sandbox.scenarios import FLAKY_ERROR_RATE, Token, has_token
from sandbox.schemas import FaultSettings

Sleep = Callable[[float], Awaitable[None]]


class Verdict(Enum):
    PASS = "pass"
    FAIL_BEFORE = "fail_before"  # 503 and nothing happened
    FAIL_AFTER = "fail_after"  # the call took effect, then the answer got "lost" (503)


class FaultInjector:
    def __init__(self, rng: random.Random | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self._rng = rng or random.Random()
        self._sleep = sleep
        # In memory on purpose: a fault switch left on must not survive a restart and surprise
        # the next demo.
        self.settings = FaultSettings()

    async def on_call(self, app_ids: Iterable[str | None], *, mutating: bool) -> Verdict:
        """Add the configured latency, then decide the call's fate."""
        if self.settings.latency_ms > 0:
            await self._sleep(self.settings.latency_ms / 1000)
        failed = self._rng.random() < self.settings.error_rate
        if not failed and any(has_token(app_id, Token.FLAKY) for app_id in app_ids):
            failed = self._rng.random() < FLAKY_ERROR_RATE
        if not failed:
            return Verdict.PASS
        if mutating and self._rng.random() < 0.5:
            return Verdict.FAIL_AFTER
        return Verdict.FAIL_BEFORE
