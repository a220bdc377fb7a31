"""Money no run can apply, over real HTTP: `python -m ingress` in front of a dev server (it has
update-with-start), a worker and the sandbox (LiveStack), at 3600x (the 25 h grace is 25 s).

Each stranded-money path of issue 12 answered `held` once the payment's custody recorded it:
order never started (was 404, nothing recorded), run ended (was 409), a second transaction (was
422 `transaction_id`), another amount (was 422 `amount`), `succeeded` after `failed` once the run
ended (was `duplicate`). The channel really holds each payment (`python -m sandbox settle`), so
the custody's refund is a real ledger effect; an order started late claims its payment instead.
Orders are corporate transfers with `pay-never` transactions: only notices and `settle` move them.
"""

import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from client.ack_journal import AckJournal, read_acks
from client.custody import custody_status
from domain.custody import CustodyState, CustodyStatus, HeldReason
from ingress.settings import DEV_BACKEND_TOKEN, DEV_CHANNEL_SECRETS
from ingress.signature import sign
from tests.support.live_stack import LiveStack
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TIME_SCALE = 3600
BACKEND = {"Authorization": f"Bearer {DEV_BACKEND_TOKEN}"}
CORPORATE = "corporate_transfer"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("custody"), time_scale=TIME_SCALE)
    try:
        live.start(ingress=True)
        yield live
    finally:
        live.stop()


@pytest.fixture
async def http(stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.ingress_url, timeout=30) as client:
        yield client


def txn(order_id: str) -> str:
    return f"txn-pay-never-{order_id}"


def order(order_id: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "account_id": f"acct-{order_id}",
        "app_id": f"app-{order_id}",
        "from_plan": "basic",
        "to_plan": "premium",
        "features": [],
        "payment_method": CORPORATE,
        "transaction_id": txn(order_id),
        "amount": "600.00",
        "currency": "CNY",
    }


def notice(order_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "transaction_id": txn(order_id),
        "amount": "600.00",
        "currency": "CNY",
        "status": "succeeded",
    } | changes


async def notify(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body).encode()
    secret = DEV_CHANNEL_SECRETS[CORPORATE]  # type: ignore[index]
    headers = {"X-Signature": sign(raw, secret), "Content-Type": "application/json"}
    return await http.post(f"/v1/payments/notify/{CORPORATE}", content=raw, headers=headers)


async def start(http: httpx.AsyncClient, order_id: str) -> None:
    response = await http.post("/v1/upgrades", json=order(order_id), headers=BACKEND)
    assert response.status_code == 201, response.text


async def status(http: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await http.get(f"/v1/upgrades/{order_id}", headers=BACKEND)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def settle(stack: LiveStack, transaction_id: str, order_id: str, amount: str) -> None:
    """The channel takes the money (`python -m sandbox settle`, as an operator stages it)."""
    result = await stack.run("-m", "sandbox", "settle", transaction_id, "--order", order_id,
                             "--method", CORPORATE, "--amount", amount)  # fmt: skip
    assert result.code == 0, result.stderr


async def closed(stack: LiveStack, order_id: str) -> None:
    """Until the order's run has closed, not just reached its terminal stage: a notice racing
    the run's completion makes the server retry that workflow task (UNHANDLED_COMMAND), which
    the audit at the end would report; here the notice is to come after the end."""
    handle = (await stack.client()).get_workflow_handle(f"upgrade-{order_id}")

    async def running() -> bool:
        return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    await eventually(running, lambda still: not still, what=f"{order_id}'s run closed")


async def custody(stack: LiveStack, custody_id: str) -> CustodyStatus:
    return await custody_status(await stack.client(), custody_id)


async def money(stack: LiveStack, transaction_id: str) -> dict[str, Any]:
    result = await stack.run("-m", "sandbox", "money", "--json")
    assert result.code == 0, result.stderr
    [row] = [r for r in result.json() if r["transaction_id"] == transaction_id]
    assert isinstance(row, dict)
    return row


async def ledger(stack: LiveStack, order_id: str) -> list[str]:
    result = await stack.run("-m", "sandbox", "ledger", "--order", order_id, "--json")
    assert result.code == 0, result.stderr
    return [f"{e['system']}/{e['action']}" for e in result.json()]


async def assert_held(response: httpx.Response, transaction_id: str) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "held", body
    assert body["custody"] == f"payment-{CORPORATE}-{transaction_id}"
    return str(body["custody"])


async def refunded(stack: LiveStack, custody_id: str) -> CustodyStatus:
    return await eventually(
        lambda: custody(stack, custody_id),
        lambda s: s.state is not CustodyState.HOLDING,
        what=f"{custody_id} leave holding",
    )


async def test_a_payment_for_an_order_never_started_is_held_then_refunded(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "CUS-GHOST"
    await settle(stack, txn(order_id), order_id, "600.00")
    held = await assert_held(await notify(http, notice(order_id)), txn(order_id))
    current = await custody(stack, held)
    assert current.state is CustodyState.HOLDING and current.reasons == [HeldReason.NOT_STARTED]
    assert current.ticket_id is not None or current.deliveries == 1
    # The channel re-delivers: the same answer, recorded once.
    await assert_held(await notify(http, notice(order_id)), txn(order_id))
    # A notice that is not money keeps its old answer: nothing was taken, nothing to hold.
    unpaid = await notify(http, notice(order_id, status="under_review"))
    assert unpaid.status_code == 404 and unpaid.headers["retry-after"]

    final = await refunded(stack, held)
    assert final.state is CustodyState.REFUNDED and final.deliveries == 1, final
    assert final.refund is not None and final.refund.amount == Decimal("600.00")
    row = await money(stack, txn(order_id))
    assert row["captured"] == "600.00" and [r["amount"] for r in row["refunds"]] == ["600.00"]
    effects = await ledger(stack, held)
    assert effects.count("payments/refund_payment") == 1, effects
    assert effects.count("tickets/escalate") == effects.count("tickets/close_ticket") == 1
    # A re-delivery after the refund: still answered (durably recorded long ago), no new money.
    again = await notify(http, notice(order_id))
    await assert_held(again, txn(order_id))
    assert (await custody(stack, held)).state is CustodyState.REFUNDED
    assert len((await money(stack, txn(order_id)))["refunds"]) == 1


async def test_a_payment_after_the_run_was_cancelled_is_held_then_refunded(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "CUS-CANCEL"
    await start(http, order_id)
    cancelled = await http.post(f"/v1/upgrades/{order_id}/cancel", json={}, headers=BACKEND)
    assert cancelled.status_code == 200 and cancelled.json()["stage"] == "cancelled"
    await closed(stack, order_id)
    await settle(stack, txn(order_id), order_id, "600.00")
    held = await assert_held(await notify(http, notice(order_id)), txn(order_id))
    final = await refunded(stack, held)
    assert final.state is CustodyState.REFUNDED and final.reasons == [HeldReason.RUN_ENDED]
    assert "billing/update_billing_plan" not in await ledger(stack, order_id)
    assert [r["amount"] for r in (await money(stack, txn(order_id)))["refunds"]] == ["600.00"]


async def test_a_second_transaction_and_another_amount_are_held_not_refused(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "CUS-TWICE"
    await start(http, order_id)
    second = f"{txn(order_id)}-2"
    await settle(stack, second, order_id, "600.00")
    held = await assert_held(await notify(http, notice(order_id, transaction_id=second)), second)
    assert (await custody(stack, held)).reasons == [HeldReason.SECOND_TRANSACTION]
    other_amount = await notify(http, notice(order_id, amount="601.00"))
    mismatch = await assert_held(other_amount, txn(order_id))
    assert (await custody(stack, mismatch)).reasons == [HeldReason.AMOUNT_MISMATCH]
    # The order's own run was not touched by either.
    current = await status(http, order_id)
    assert current["stage"] == "awaiting_payment" and current["payment"]["notices"] == 0
    # Its own payment then arrives: the run applies it and claims the transaction, so the
    # custody holding the mismatched notice of that transaction ends `applied`, not refunded.
    accepted = await notify(http, notice(order_id))
    assert accepted.status_code == 200 and accepted.json()["result"] == "accepted"
    await eventually(lambda: status(http, order_id), lambda s: s["stage"] == "active",
                     what=f"{order_id} active")  # fmt: skip
    applied = await refunded(stack, mismatch)
    assert applied.state is CustodyState.APPLIED and applied.claimed_by == order_id, applied
    # The second transaction nobody claims is given back in full.
    twice = await refunded(stack, held)
    assert twice.state is CustodyState.REFUNDED
    assert [r["amount"] for r in (await money(stack, second))["refunds"]] == ["600.00"]


async def test_succeeded_after_failed_once_the_run_ended_is_held(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "CUS-FLIP"
    await start(http, order_id)
    failed = await notify(http, notice(order_id, status="failed"))
    assert failed.status_code == 200 and failed.json()["result"] == "accepted"
    await eventually(lambda: status(http, order_id), lambda s: s["stage"] == "failed",
                     what=f"{order_id} failed")  # fmt: skip
    await closed(stack, order_id)
    # The channel changes its mind: it took the money after all.
    await settle(stack, txn(order_id), order_id, "600.00")
    held = await assert_held(await notify(http, notice(order_id)), txn(order_id))
    assert (await custody(stack, held)).reasons == [HeldReason.SUCCEEDED_AFTER_FAILED]
    assert (await refunded(stack, held)).state is CustodyState.REFUNDED


async def test_an_order_started_late_claims_its_held_payment(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "CUS-LATE"
    await settle(stack, txn(order_id), order_id, "600.00")
    held = await assert_held(await notify(http, notice(order_id)), txn(order_id))
    # The backend starts the upgrade within the grace period: the run learns of the payment
    # from the channel itself (its first poll) and claims it in reconciliation.
    await start(http, order_id)
    final = await eventually(lambda: status(http, order_id),
                             lambda s: s["stage"] in {"active", "failed", "needs_attention"},
                             what=f"{order_id} settle")  # fmt: skip
    assert final["stage"] == "active", final
    applied = await refunded(stack, held)
    assert applied.state is CustodyState.APPLIED and applied.claimed_by == order_id, applied
    assert (await money(stack, txn(order_id)))["refunds"] == []


async def test_the_audit_finds_every_payment_applied_once_or_refunded_once(
    stack: LiveStack,
) -> None:
    """After the paths above: each captured payment is applied to one active order or refunded
    in full, and the custodies' own effects are not mistaken for orders without a run."""
    result = await stack.run("starter.py", "audit", "--json")
    report = result.json()
    money = [v for v in report["violations"] if v["kind"].startswith("money_")]
    assert money == [], money
    assert not any(v["order_id"].startswith("payment-") for v in report["violations"]), report
    assert result.code == 0 and report["clean"], report
    # Every `held` answer is in the journal with its custody, which the audit found.
    acks, _ = read_acks(AckJournal.in_dir(stack.data_dir).path)
    held = {a.workflow_id for a in acks if a.kind == "held"}
    assert f"payment-{CORPORATE}-{txn('CUS-GHOST')}" in held and len(held) == 6, held


async def test_starter_lists_and_shows_the_held_payments(stack: LiveStack) -> None:
    listed = await stack.run("starter.py", "held", "--json")
    assert listed.code == 0, listed.stderr
    states = {row["custody_id"]: row["state"] for row in listed.json()}
    ghost = f"payment-{CORPORATE}-{txn('CUS-GHOST')}"
    late = f"payment-{CORPORATE}-{txn('CUS-LATE')}"
    assert states[ghost] == "refunded" and states[late] == "applied", states
    holding = await stack.run("starter.py", "held", "--state", "holding", "--json")
    assert holding.code == 0 and holding.json() == [], holding.stdout
    one = await stack.run("starter.py", "held", ghost)
    assert one.code == 0, one.stderr
    assert "state: refunded" in one.stdout and "order_not_started" in one.stdout, one.stdout
    bad = await stack.run("starter.py", "held", "ORD-1")
    assert bad.code == 2 and "custody_id" in bad.stderr
    unknown = await stack.run("starter.py", "held", f"payment-{CORPORATE}-txn-nobody")
    assert unknown.code == 1 and "no custody" in unknown.stderr
