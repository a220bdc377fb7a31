"""Worker faults: SIGKILL in the middle of billing and of propagation, one of two workers killed,
a graceful SIGTERM. Nothing may be lost or applied twice: a step that was in flight is retried
under the same idempotency key (after its start-to-close timeout), and the sandbox replays it.
"""

import signal

import httpx
import pytest

from domain.stages import Stage
from tests.faults.harness import FaultRecord, FaultRun, any_in, make_batch, submit, wait_until
from tests.support.live_stack import LiveStack

# Every platform call takes this long while the kill is being timed, so that billing (one short
# call) is a stage that can be seen and hit in flight: the test's poll (every 0.1 s, eight status
# queries answered by a worker that may be starved of CPU) must land inside that window.
SLOW_CALLS_MS = 3000
SHUTDOWN_GRACE_S = 5.0

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


def set_latency(stack: LiveStack, ms: int) -> None:
    httpx.put(
        f"http://127.0.0.1:{stack.sandbox_port}/v1/sandbox/faults",
        json={"error_rate": 0.0, "latency_ms": ms},
        timeout=10,
    ).raise_for_status()


async def test_worker_sigkill_during_billing(
    healthy: LiveStack, records: list[FaultRecord]
) -> None:
    stack = healthy
    run = FaultRun(stack, "worker SIGKILL during billing", make_batch("kbill"), records)
    set_latency(stack, SLOW_CALLS_MS)
    await submit(stack, run.orders)
    seen = await wait_until(stack, run.ids, any_in(Stage.UPDATING_BILLING), "updating_billing")
    in_billing = [o for o, s in seen.items() if s.get("stage") == Stage.UPDATING_BILLING]
    stack.kill("worker", signal.SIGKILL)
    set_latency(stack, 0)
    stack.start_worker()
    await run.finish(f"killed while {len(in_billing)} order(s) were in updating_billing")


async def test_worker_sigkill_during_propagation(
    healthy: LiveStack, records: list[FaultRecord]
) -> None:
    stack = healthy
    run = FaultRun(stack, "worker SIGKILL during propagation", make_batch("kprop"), records)
    await submit(stack, run.orders)
    seen = await wait_until(stack, run.ids, any_in(Stage.PROPAGATING), "propagating")
    propagating = [o for o, s in seen.items() if s.get("stage") == Stage.PROPAGATING]
    stack.kill("worker", signal.SIGKILL)
    stack.start_worker()
    await run.finish(f"killed while {len(propagating)} order(s) were propagating")


async def test_two_workers_one_killed(healthy: LiveStack, records: list[FaultRecord]) -> None:
    stack = healthy
    stack.start_worker("worker-2")
    run = FaultRun(stack, "two workers, one SIGKILLed", make_batch("k2w"), records)
    await submit(stack, run.orders)
    await wait_until(stack, run.ids, any_in(Stage.PROPAGATING), "propagating")
    stack.kill("worker", signal.SIGKILL)
    # Not restarted: worker-2 alone takes over the killed worker's workflows and activities.
    await run.finish("worker-2 finished the batch alone")
    assert stack.running("worker-2")


async def test_graceful_sigterm_stops_within_the_grace_and_loses_nothing(
    healthy: LiveStack, records: list[FaultRecord]
) -> None:
    stack = healthy
    # A worker with a known shutdown grace, to hold it to it.
    stack.kill("worker", signal.SIGTERM)
    stack.start_worker(env={"UPGRADE_SHUTDOWN_GRACE_S": str(SHUTDOWN_GRACE_S)})
    run = FaultRun(stack, "worker SIGTERM (graceful)", make_batch("term"), records)
    await submit(stack, run.orders)
    await wait_until(stack, run.ids, any_in(Stage.PROPAGATING), "propagating")
    proc = stack.processes["worker"]
    proc.send_signal(signal.SIGTERM)
    # A bound, not a measurement: the grace plus room for a loaded machine.
    code = proc.wait(timeout=SHUTDOWN_GRACE_S + 30)
    assert code == 0, f"worker exited {code} on SIGTERM"
    stack.start_worker()
    await run.finish(f"worker exited 0 on SIGTERM (grace {SHUTDOWN_GRACE_S:g}s), restarted")
