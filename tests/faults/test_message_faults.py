"""Message faults: the same payment notice delivered 10 times at once; a notice that arrives before
its workflow exists; notices and cancels sent while no worker runs.

Expected behaviour, as documented in docs/reliability.md:
- ten concurrent deliveries of one notice: exactly one `accepted`, nine `duplicate`;
- a notice for an order not started yet: `starter.py confirm-payment` exits 1 with "no upgrade for
  order ...", records nothing; delivered again once the order is started, it is accepted;
- with no worker, an update cannot be accepted (a worker runs the validator): the CLI gives up
  after `--timeout` with exit 1 and a line saying no answer came and that sending again is safe.
  When a worker is back, the client re-sends; the run ends in the state the messages asked for.
"""

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime

import pytest

from client.upgrades import confirm_payment, upgrade_status
from domain.models import PaymentNotice, UpgradeOrder
from domain.stages import Stage
from tests.faults.harness import (
    FaultRecord,
    FaultRun,
    journal_of,
    make_order,
    submit,
    wait_until,
)
from tests.support.live_stack import CliResult, LiveStack

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

DELIVERIES = 10
NO_WORKER_TIMEOUT_S = "3"


def pushed_order(order_id: str, shape: int) -> UpgradeOrder:
    # The channel never answers polls (`pay-never`): only the pushed notice can pay the order;
    # a corporate transfer's payment deadline is days of policy time, so no escalation interferes.
    return make_order(order_id, shape, method="corporate_transfer", txn="pay-never")


def notice_args(order: UpgradeOrder, *extra: str) -> list[str]:
    return ["starter.py", "confirm-payment", order.order_id, "--transaction-id",
            order.transaction_id, "--amount", str(order.amount), "--json", *extra]  # fmt: skip


def stamp() -> str:
    return datetime.now(UTC).strftime("%H%M%S")


async def test_one_notice_delivered_ten_times_concurrently_and_one_before_the_workflow(
    healthy: LiveStack, records: list[FaultRecord]
) -> None:
    stack = healthy
    s = stamp()
    by_cli = pushed_order(f"F-dup-{s}-cli", 0)
    in_process = [pushed_order(f"F-dup-{s}-{n}", n) for n in range(1, 4)]
    early = pushed_order(f"F-dup-{s}-early", 5)
    run = FaultRun(stack, "notice x10 concurrently; notice before the workflow",
                   [by_cli, *in_process, early], records)  # fmt: skip

    before = await stack.run(*notice_args(early))
    assert before.code == 1, before
    assert "no upgrade for order" in before.stderr, before.stderr

    await submit(stack, run.orders)
    client = await stack.client()
    journal = journal_of(stack)

    async def deliver_in_process(order: UpgradeOrder) -> list[str]:
        notice = PaymentNotice(order_id=order.order_id, transaction_id=order.transaction_id,
                               amount=order.amount)  # fmt: skip
        acks = await asyncio.gather(
            *(confirm_payment(client, notice, journal=journal) for _ in range(DELIVERIES))
        )
        return [a.result for a in acks]

    cli_results: list[CliResult] = await asyncio.gather(
        *(stack.run(*notice_args(by_cli)) for _ in range(DELIVERIES))
    )
    assert [r.code for r in cli_results] == [0] * DELIVERIES, [r.stderr for r in cli_results]
    outcomes = {by_cli.order_id: [r.json()["result"] for r in cli_results]}
    for order in in_process:
        outcomes[order.order_id] = await deliver_in_process(order)
    later = await stack.run(*notice_args(early))
    assert later.code == 0, later.stderr
    outcomes[early.order_id] = [later.json()["result"]]

    for order_id, results in outcomes.items():
        expected = {"accepted": 1} | ({"duplicate": DELIVERIES - 1} if len(results) > 1 else {})
        assert Counter(results) == expected, (order_id, results)
    record = await run.finish("each order: 1 accepted, 9 duplicate; the early notice exited 1 "
                              "(no upgrade for order) and was accepted once re-sent")  # fmt: skip
    assert record.stages == {"active": len(run.orders)}


async def test_messages_while_no_worker_runs(
    healthy: LiveStack, records: list[FaultRecord]
) -> None:
    stack = healthy
    s = stamp()
    to_pay = pushed_order(f"F-nowk-{s}-pay", 0)
    to_cancel = pushed_order(f"F-nowk-{s}-cancel", 1)
    bystander = make_order(f"F-nowk-{s}-alipay", 2)
    run = FaultRun(stack, "notice and cancel with no worker", [to_pay, to_cancel, bystander],
                   records)  # fmt: skip
    await submit(stack, run.orders)
    await wait_until(
        stack, [to_pay.order_id, to_cancel.order_id],
        lambda seen: all(s.get("stage") == Stage.AWAITING_PAYMENT for s in seen.values()),
        "both waiting for payment",
    )  # fmt: skip
    assert stack.kill("worker", signal.SIGTERM) == 0

    pay = await stack.run(*notice_args(to_pay, "--timeout", NO_WORKER_TIMEOUT_S))
    cancel = await stack.run("starter.py", "cancel", to_cancel.order_id, "--json",
                             "--timeout", NO_WORKER_TIMEOUT_S)  # fmt: skip
    for result in (pay, cancel):
        assert result.code == 1, result
        assert "no answer from the upgrade" in result.stderr, result.stderr
        assert "sending it again is safe" in result.stderr

    stack.start_worker()
    # The client was told "no answer": it sends again until acknowledged. The first attempt may
    # already have been applied by the returning worker; the repeat then changes nothing.
    pay_again = await stack.run(*notice_args(to_pay, "--timeout", "60"))
    assert pay_again.code == 0, pay_again.stderr
    assert pay_again.json()["result"] in ("accepted", "duplicate")
    client = await stack.client()
    if (await upgrade_status(client, to_cancel.order_id)).stage is not Stage.CANCELLED:
        cancel_again = await stack.run("starter.py", "cancel", to_cancel.order_id, "--json",
                                       "--timeout", "60")  # fmt: skip
        # Either acknowledged, or the first cancel has already ended the run meanwhile.
        assert cancel_again.code == 0 or (
            cancel_again.code == 2 and "has ended" in cancel_again.stderr
        ), cancel_again
    record = await run.finish(
        f"CLI exited 1 after {NO_WORKER_TIMEOUT_S}s ('no answer ... sending it again is safe'); "
        f"re-sent once the worker was back: first pay attempt "
        f"{'applied' if pay_again.json()['result'] == 'duplicate' else 'not applied'} by then"
    )
    assert record.stages == {"active": 2, "cancelled": 1}, record.stages
