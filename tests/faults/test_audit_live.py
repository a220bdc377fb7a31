"""`starter.py audit` against a real small batch: clean (exit 0), then, with a real second run of
one order and an acknowledgement for an order that was never started, it fails (exit 1) naming
both orders. The pure checks are in tests/audit; this proves the collector feeds them real facts.
"""

from datetime import UTC, datetime

import pytest

from domain.upgrade_input import build_upgrade_input
from service.settings import TASK_QUEUE
from tests.faults.harness import FaultRecord, FaultRun, audit_batch, journal_of, make_batch, submit
from tests.support.live_stack import LiveStack
from workflows.upgrade import UpgradeActivation

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


async def test_audit_is_clean_on_a_real_batch_and_fails_on_a_real_violation(
    healthy: LiveStack, records: list[FaultRecord]
) -> None:
    stack = healthy
    run = FaultRun(stack, "no fault (audit baseline)", make_batch("audit", 4), records)
    await submit(stack, run.orders)
    await run.finish("clean batch: audit exit 0")

    # A second run of the first order, under another workflow id (what a buggy client that
    # bypassed the idempotent start would do), and a start "acknowledged" for a run that does
    # not exist.
    client = await stack.client()
    twin = await client.start_workflow(
        UpgradeActivation.run,
        build_upgrade_input(run.orders[0], datetime.now(UTC), stack.time_scale),
        id=f"upgrade-{run.orders[0].order_id}-twin",
        task_queue=TASK_QUEUE,
    )
    ghost = run.orders[0].order_id[:-1] + "ghost"
    journal_of(stack).record("start", ghost, f"upgrade-{ghost}", "created", run_id="no-such-run")
    try:
        code, report = await audit_batch(stack, run.since, ghost[:-5])
    finally:
        await twin.terminate("test: the duplicate run has served its purpose")
    found = {(v["order_id"], v["kind"]) for v in report["violations"]}
    assert code == 1, report
    assert (run.orders[0].order_id, "duplicate_run") in found, found
    assert (ghost, "missing_run") in found, found
    assert report["summary"]["duplicated"] >= 1 and report["summary"]["lost"] >= 1
