"""Money on the channels' own doors that no run can apply, over real HTTP (issue 12): `python -m
ingress` with keys of our own in front of a dev server (update-with-start), a worker and the
sandbox (LiveStack), at 3600x (the custody's 25 h grace is 25 s).

- A `paid` notice whose `out_trade_no` no started upgrade carries was answered 404 and recorded
  nowhere (stranded once the channel gave up): now the channel's success answer comes once the
  transaction's custody holds it (`unknown_trade`); custody learns from the channel whom it was
  paid for and refunds it after the grace period, or an order started late claims it.
- A `paid` notice for another amount was refused 409 (review list) on these doors but held on
  the normalised one: now held in custody here too (`amount_mismatch`); a notice that is not
  money (`closed`) keeps the old refusals (404 unknown, 409 other amount).

The channel really holds each payment (`python -m sandbox settle`), so refunds are ledger effects.
"""

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from client.custody import custody_status
from domain.custody import CustodyState, CustodyStatus, HeldReason
from tests.ingress.test_channel_doors_http import (
    KEYS_ENV,
    alipay,
    assert_alipay_fail,
    assert_success,
    findable,
    paid,
    post_alipay,
    post_wechat,
    start,
    status,
    txn,
    wechat,
)
from tests.support.live_stack import LiveStack
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TIME_SCALE = 3600


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("door-custody"), time_scale=TIME_SCALE)
    try:
        live.start(ingress=True, ingress_env=KEYS_ENV)
        yield live
    finally:
        live.stop()


@pytest.fixture
async def http(stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.ingress_url, timeout=30) as client:
        yield client


async def settle(stack: LiveStack, order_id: str, method: str, amount: str = "600.00") -> None:
    """The channel takes the money for `order_id`'s transaction (as an operator stages it)."""
    result = await stack.run("-m", "sandbox", "settle", txn(order_id), "--order", order_id,
                             "--method", method, "--amount", amount)  # fmt: skip
    assert result.code == 0, result.stderr


async def custody(stack: LiveStack, method: str, order_id: str) -> CustodyStatus:
    return await custody_status(await stack.client(), f"payment-{method}-{txn(order_id)}")


async def settled(stack: LiveStack, method: str, order_id: str) -> CustodyStatus:
    return await eventually(
        lambda: custody(stack, method, order_id),
        lambda s: s.state is not CustodyState.HOLDING,
        what=f"the custody of {order_id}'s transaction to leave holding",
    )


async def money(stack: LiveStack, order_id: str) -> dict[str, Any]:
    result = await stack.run("-m", "sandbox", "money", "--json")
    assert result.code == 0, result.stderr
    [row] = [r for r in result.json() if r["transaction_id"] == txn(order_id)]
    assert isinstance(row, dict)
    return row


async def test_an_alipay_payment_no_upgrade_carries_is_held_then_refunded(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "ALI-GHOST"
    await settle(stack, order_id, "alipay")
    body = alipay(order_id)
    assert_success(await post_alipay(http, body))
    held = await custody(stack, "alipay", order_id)
    assert held.reasons == [HeldReason.UNKNOWN_TRADE] and held.deliveries == 1, held
    # Alipay re-sends: the same answer, recorded once.
    assert_success(await post_alipay(http, body))
    # A trade closed unpaid took no money: nothing to hold, refused as before.
    closed = alipay("ALI-NOBODY", trade_status="TRADE_CLOSED")
    assert_alipay_fail(await post_alipay(http, closed), 404)
    # A reference that no order could have (ours are identifiers: no `~`) keys no custody.
    foreign = await post_alipay(http, alipay("ALI~FOREIGN"))
    assert_alipay_fail(foreign, 404)
    assert b"not a transaction id of ours" in foreign.content

    final = await settled(stack, "alipay", order_id)
    assert final.state is CustodyState.REFUNDED and final.deliveries == 1, final
    # The refund came from the order the channel was paid for, which custody learned.
    assert final.order_id == order_id, final
    assert final.refund is not None and final.refund.amount == Decimal("600.00")
    row = await money(stack, order_id)
    assert row["captured"] == "600.00", row
    assert [(r["amount"], r["order_id"]) for r in row["refunds"]] == [("600.00", order_id)], row
    # A re-delivery after the refund is still answered; no new money moves.
    assert_success(await post_alipay(http, body))
    assert len((await money(stack, order_id))["refunds"]) == 1


async def test_a_wechat_payment_before_its_upgrade_is_claimed_by_the_order_started_late(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "WX-LATE"
    await settle(stack, order_id, "wechat_pay")
    answer = await post_wechat(http, wechat(paid(order_id)))
    assert answer.status_code == 204, answer.text
    assert (await custody(stack, "wechat_pay", order_id)).reasons == [HeldReason.UNKNOWN_TRADE]
    # The backend starts the upgrade within the grace period: the run learns of the payment
    # from the channel (its poll) and claims it; custody then ends `applied`, nothing refunded.
    await start(http, order_id, "wechat_pay")
    final = await eventually(
        lambda: status(http, order_id),
        lambda s: s["stage"] in {"active", "failed", "needs_attention", "expired"},
        what=f"{order_id} to settle",
    )
    assert final["stage"] == "active", final
    applied = await settled(stack, "wechat_pay", order_id)
    assert applied.state is CustodyState.APPLIED and applied.claimed_by == order_id, applied
    assert (await money(stack, order_id))["refunds"] == []


async def test_a_paid_notice_for_another_amount_is_held_like_on_the_normalised_door(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "ALI-OTHER"
    await start(http, order_id, "alipay")
    await findable(stack, order_id)
    assert_success(await post_alipay(http, alipay(order_id, total_amount="600.01")))
    held = await custody(stack, "alipay", order_id)
    assert held.reasons == [HeldReason.AMOUNT_MISMATCH], held
    assert held.amount == Decimal("600.01") and held.order_id == order_id, held
    # The order's run was not touched (its own payment may still come).
    current = await status(http, order_id)
    assert current["stage"] == "awaiting_payment" and current["payment"]["notices"] == 0
    # Not money: a trade closed for another amount is still refused for a person.
    closed = alipay(order_id, trade_status="TRADE_CLOSED", total_amount="1.00")
    assert_alipay_fail(await post_alipay(http, closed), 409)
