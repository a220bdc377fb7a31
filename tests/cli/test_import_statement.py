"""Corporate transfers by bank statement, as an operator runs it: `starter.py import-statement`
(and the ingress's `POST /v1/payments/statements`) against a live stack at 3600x.

Orders carry `pay-never` transactions (the sandbox never confirms them by a poll), so only the
statement moves them. One statement holds every case: a line that matches, one whose amount
differs, one naming two open orders, one with no code, one with the code of no open order, and a
second line for an order already matched in the file. Then the file is imported again (nothing
changes), and a file that is not a statement is refused naming its line.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from channels.reference import payment_reference
from client import payment_orders
from ingress.settings import DEV_BACKEND_TOKEN, DEV_OPERATOR_TOKEN
from tests.support.live_stack import LiveStack
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

OPERATOR = {"Authorization": f"Bearer {DEV_OPERATOR_TOKEN}"}
BACKEND = {"Authorization": f"Bearer {DEV_BACKEND_TOKEN}"}
ORDERS = ("ST-PAID", "ST-SHORT", "ST-TWIN-1", "ST-TWIN-2")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("statements"), time_scale=3600)
    try:
        live.start(ingress=True)
        yield live
    finally:
        live.stop()


def statement() -> str:
    paid, short = payment_reference("ST-PAID"), payment_reference("ST-SHORT")
    twins = f"{payment_reference('ST-TWIN-1')} {payment_reference('ST-TWIN-2')}"
    return (
        "booking_date,amount,currency,payer_name,memo,bank_reference\n"
        f"2026-05-28,600.00,CNY,示例科技有限公司,货款 {paid},B-1\n"
        f"2026-05-28,599.00,CNY,Acme,{short.lower()} upgrade,B-2\n"
        f'2026-05-28,600.00,CNY,"Two, Ltd.","{twins}",B-3\n'
        "2026-05-29,88.00,CNY,张三,服务费,B-4\n"
        f"2026-05-29,600.00,CNY,Nobody,{payment_reference('NOT-AN-ORDER')},B-5\n"
        f"2026-05-29,600.00,CNY,示例科技有限公司,again {paid},B-6\n"
    )


async def start_orders(stack: LiveStack) -> None:
    for order_id in ORDERS:
        result = await stack.run(
            "starter.py", "start", "--order-id", order_id, "--account-id", f"acct-{order_id}",
            "--app-id", f"app-{order_id}", "--from-plan", "basic", "--to-plan", "premium",
            "--payment-method", "corporate_transfer", "--transaction-id",
            f"txn-pay-never-{order_id}", "--json",
        )  # fmt: skip
        assert result.code == 0, result.stderr
    client = await stack.client()
    await eventually(
        lambda: payment_orders.open_transfers(client),
        lambda orders: {o.order_id for o in orders} >= set(ORDERS),
        what="the transfers listed as open",
    )


async def status(stack: LiveStack, order_id: str) -> dict[str, Any]:
    result = await stack.run("starter.py", "status", order_id, "--json")
    assert result.code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


async def test_a_statement_confirms_its_match_and_keeps_every_other_line(
    stack: LiveStack, tmp_path: Path
) -> None:
    await start_orders(stack)
    file = tmp_path / "statement-2026-05-29.csv"
    file.write_text(statement(), encoding="utf-8")

    first = await stack.run("starter.py", "import-statement", str(file), "--json")
    assert first.code == 0, first.stderr
    outcomes = {line["bank_reference"]: line for line in first.json()["lines"]}
    assert {ref: line["outcome"] for ref, line in outcomes.items()} == {
        "B-1": "matched",
        "B-2": "wrong_amount",
        "B-3": "ambiguous",
        "B-4": "unmatched",
        "B-5": "unmatched",
        "B-6": "duplicate",
    }
    assert outcomes["B-2"]["order_id"] == "ST-SHORT" and "599.00" in outcomes["B-2"]["reason"]
    assert set(outcomes["B-3"]["candidates"]) == {"ST-TWIN-1", "ST-TWIN-2"}

    paid = await eventually(
        lambda: status(stack, "ST-PAID"),
        lambda s: s["payment"]["status"] == "succeeded",
        what="ST-PAID paid",
    )
    assert paid["payment"]["via"] == "notification" and paid["payment"]["notices"] == 1
    assert paid["payment_reference"] == payment_reference("ST-PAID")
    for order_id in ("ST-SHORT", "ST-TWIN-1", "ST-TWIN-2"):
        untouched = await status(stack, order_id)
        assert untouched["stage"] == "awaiting_payment", untouched
        assert untouched["payment"]["notices"] == 0

    # The same file again, by the CLI and by the ingress: nothing new, nothing changed.
    again = await stack.run("starter.py", "import-statement", str(file), "--json")
    assert again.code == 0, again.stderr
    assert again.json()["lines"] == []
    assert sorted(again.json()["already_imported"]) == [f"B-{n}" for n in range(1, 7)]
    async with httpx.AsyncClient(base_url=stack.ingress_url, timeout=30) as http:
        over_http = await http.post(
            "/v1/payments/statements", content=file.read_bytes(), headers=OPERATOR
        )
        assert over_http.status_code == 200, over_http.text
        assert over_http.json()["lines"] == [] and len(over_http.json()["already_imported"]) == 6
        refused = await http.post("/v1/payments/statements", content=b"x", headers=BACKEND)
        assert refused.status_code == 401
    assert (await status(stack, "ST-PAID"))["payment"]["notices"] == 1

    # Kept for a person, durably: listed by `review`.
    review = await stack.run("starter.py", "review", "--json")
    assert review.code == 0, review.stderr
    kept = {line["bank_reference"]: line["outcome"] for line in review.json()["statement_lines"]}
    assert kept == {"B-2": "wrong_amount", "B-3": "ambiguous", "B-4": "unmatched",
                    "B-5": "unmatched", "B-6": "duplicate"}  # fmt: skip


async def test_a_file_that_is_not_a_statement_imports_nothing(
    stack: LiveStack, tmp_path: Path
) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(
        "booking_date,amount,currency,payer_name,memo,bank_reference\n"
        "2026-05-30,12.5.0,CNY,x,y,B-9\n"
        "2026-05-30,1.00,CNY,x,y,\n",
        encoding="utf-8",
    )
    result = await stack.run("starter.py", "import-statement", str(file))
    assert result.code == 2, result.stdout + result.stderr
    assert "line 2" in result.stderr and "line 3" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    async with httpx.AsyncClient(base_url=stack.ingress_url, timeout=30) as http:
        refused = await http.post(
            "/v1/payments/statements", content=file.read_bytes(), headers=OPERATOR
        )
    assert refused.status_code == 422 and refused.json()["field"] == "line 2", refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["line 2", "line 3"]
