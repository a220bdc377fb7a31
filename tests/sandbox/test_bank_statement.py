"""The sandbox's bank statement: the corporate transfers it settled, in the file format the
import reads, each line matching its order by reference code and amount."""

from decimal import Decimal

import pytest

from channels.matching import MatchKind, OpenOrder, match_statement
from channels.reference import payment_reference
from channels.statement import parse_statement
from sandbox.cli import build_parser
from sandbox.settings import SandboxSettings
from tests.sandbox.helpers import Api, FakeClock

TX = "/v1/payments/transactions/{}"


def transfer(order_id: str, amount: str = "1700.00") -> dict[str, str]:
    return {"order_id": order_id, "method": "corporate_transfer", "amount": amount}


async def statement(api: Api, **params: str) -> str:
    response = await api.http.get("/v1/sandbox/statement", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.text


async def test_settled_transfers_are_on_the_statement_and_match_their_orders(
    api: Api, clock: FakeClock
) -> None:
    await api.get(TX.format("tx-corp-1"), **transfer("ORD-C1"))
    await api.get(TX.format("tx-corp-short-pay-short"), **transfer("ORD-C2"))
    await api.get(TX.format("tx-card"), order_id="ORD-B", method="bank_card", amount="10.00")
    assert parse_statement(await statement(api)) == ()  # nothing settled yet
    clock.advance(hours=24)
    lines = parse_statement(await statement(api))
    assert [line.amount for line in lines] == [Decimal("1700.00"), Decimal("1699.00")]
    assert payment_reference("ORD-C1") in lines[0].memo
    assert len({line.bank_reference for line in lines}) == 2
    orders = [
        OpenOrder(order_id=o, reference=payment_reference(o), amount=Decimal("1700.00"))
        for o in ("ORD-C1", "ORD-C2")
    ]
    kinds = [outcome.kind for outcome in match_statement(lines, orders).outcomes]
    assert kinds == [MatchKind.MATCHED, MatchKind.WRONG_AMOUNT]
    # The same statement again: the same bank references (re-importing it changes nothing).
    assert parse_statement(await statement(api)) == lines


async def test_a_transfer_settled_by_hand_is_on_the_statement_with_what_was_received(
    api: Api, clock: FakeClock
) -> None:
    # `python -m sandbox settle`: the bank received it now, whatever the scenario said (a
    # `pay-never` transfer, one for an order nobody started, more than the order's amount).
    settle = "/v1/sandbox/transactions/{}/settle"
    await api.ok(settle.format("tx-corp-pay-never-1"), {**transfer("ORD-C4"), "amount": "1800.00"})
    [line] = parse_statement(await statement(api))
    assert line.amount == Decimal("1800.00") and payment_reference("ORD-C4") in line.memo


async def test_the_date_selects_the_booking_day(api: Api, clock: FakeClock) -> None:
    await api.get(TX.format("tx-corp-2"), **transfer("ORD-C3"))
    clock.advance(hours=24)
    booked = parse_statement(await statement(api))[0].booking_date
    assert len(parse_statement(await statement(api, date=booked.isoformat()))) == 1
    assert parse_statement(await statement(api, date="2001-01-01")) == ()
    response = await api.http.get("/v1/sandbox/statement", params={"date": "yesterday"})
    assert response.status_code == 422


def test_the_command_refuses_a_date_that_is_not_one() -> None:
    parser = build_parser(SandboxSettings())
    assert parser.parse_args(["statement", "--date", "2026-05-28"]).date.isoformat() == "2026-05-28"
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["statement", "--date", "28/05/2026"])
    assert exited.value.code == 2
