"""Faults around the worker: the Temporal dev server SIGKILLed mid-run and restarted on the same
database file and port; the sandbox answering 30% 503 with added latency; the sandbox down for a
while, then back on the same data (its ledger and idempotency records are SQLite).
"""

import asyncio
import signal

import pytest

from domain.stages import Stage
from tests.faults.harness import FaultRecord, FaultRun, any_in, make_batch, submit, wait_until
from tests.support.live_stack import LiveStack

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

SERVER_DOWN_S = 3.0
SANDBOX_DOWN_S = 8.0
ERROR_RATE = 0.3
LATENCY_MS = 100


async def test_dev_server_sigkill_restarted_on_the_same_database(
    healthy: LiveStack, records: list[FaultRecord]
) -> None:
    stack = healthy
    run = FaultRun(stack, "Temporal dev server SIGKILL, restarted", make_batch("srv"), records)
    await submit(stack, run.orders)
    await wait_until(stack, run.ids, any_in(Stage.PROPAGATING), "propagating")
    stack.kill("temporal", signal.SIGKILL)
    await asyncio.sleep(SERVER_DOWN_S)
    stack.start_temporal()
    await run.finish(
        f"server down {SERVER_DOWN_S:g}s; worker and client reconnected "
        f"(worker alive: {stack.running('worker')})"
    )
    assert stack.running("worker"), "the worker did not survive the server restart"


async def test_sandbox_answering_503_with_latency(
    healthy: LiveStack, records: list[FaultRecord]
) -> None:
    stack = healthy
    result = await stack.run(
        "-m", "sandbox", "faults", "--error-rate", str(ERROR_RATE),
        "--latency-ms", str(LATENCY_MS),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    run = FaultRun(stack, f"sandbox {ERROR_RATE:.0%} 503 + {LATENCY_MS} ms", make_batch("503"),
                   records)  # fmt: skip
    await submit(stack, run.orders)
    try:
        await run.finish(
            "half of the injected 503s on mutating calls come after the effect was applied"
        )
    finally:
        await stack.run("-m", "sandbox", "faults", "--error-rate", "0", "--latency-ms", "0")


async def test_sandbox_down_then_back(healthy: LiveStack, records: list[FaultRecord]) -> None:
    stack = healthy
    run = FaultRun(stack, "sandbox down, then back", make_batch("sbx"), records)
    await submit(stack, run.orders)
    await wait_until(stack, run.ids, any_in(Stage.PROPAGATING), "propagating")
    stack.kill("sandbox", signal.SIGKILL)
    await asyncio.sleep(SANDBOX_DOWN_S)
    stack.start_sandbox()  # waits until it answers /healthz
    await run.finish(f"sandbox SIGKILLed, down {SANDBOX_DOWN_S:g}s, restarted on the same SQLite")
