"""End to end: dev server + sandbox + worker as real processes, driven through the CLIs.

Every scenario token of DESIGN.md section 3 reaches its expected end state at 3600x, concurrently;
a repeated start gives the same run; the sandbox ledger shows each effect exactly once. With
`UPGRADE_RECORD_HISTORIES=1` the runs' histories are written to `tests/histories/` for the replay
test (`make histories`).
"""

import asyncio
import json
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from service.upgrades import UpgradeNotFound, upgrade_status

from domain.stages import Stage
from tests.e2e.stack import ROOT, LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

TIME_SCALE = 3600
HISTORIES = ROOT / "tests" / "histories"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("stack"), time_scale=TIME_SCALE)
    try:
        live.start()
        yield live
    finally:
        live.stop()


@dataclass
class Scenario:
    name: str
    end: Stage
    # Runs for long (wall) seconds: started alongside the others instead of one after another.
    slow: bool = False
    method: str = "alipay"
    to_plan: str = "premium"
    features: tuple[str, ...] = ()
    account: str = "acct"
    app: str = "app"
    txn: str = "txn"
    escalations: tuple[str, ...] = ()
    compensations: tuple[str, ...] = ()
    # What an operator or the channel does while the run waits, given the stack and the order id.
    act: Callable[[LiveStack, "Scenario"], Awaitable[None]] | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def order_id(self) -> str:
        return f"E2E-{self.name}"

    @property
    def transaction_id(self) -> str:
        return f"{self.txn}-{self.name}"


async def wait_status(
    stack: LiveStack, order_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 300
) -> dict[str, Any]:
    """Poll the run's `status` query in-process (a CLI process per poll would starve the worker
    of CPU on a small machine, and at 3600x a second of delay is an hour of policy time)."""
    client = await stack.client()
    deadline = asyncio.get_running_loop().time() + timeout
    status: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        try:
            status = (await upgrade_status(client, order_id)).model_dump(mode="json")
        except UpgradeNotFound:
            status = {}
        if status and done(status):
            return status
        await asyncio.sleep(0.25)
    raise AssertionError(f"{order_id}: condition not reached; last status {status}")


def at_stage(stage: Stage) -> Callable[[dict[str, Any]], bool]:
    return lambda s: s["stage"] == stage.value


def ended(s: dict[str, Any]) -> bool:
    return Stage(s["stage"]).is_terminal


async def resolve(stack: LiveStack, sc: Scenario, action: str) -> None:
    await wait_status(stack, sc.order_id, at_stage(Stage.NEEDS_ATTENTION))
    result = await stack.run(
        "starter.py", "resolve", sc.order_id, "--action", action, "--note", "e2e", "--json"
    )
    assert result.code == 0, result.stderr


async def approve_review(stack: LiveStack, sc: Scenario) -> None:
    await wait_status(stack, sc.order_id, lambda s: s["payment"]["status"] == "under_review")
    result = await stack.run("-m", "sandbox", "approve-review", sc.transaction_id)
    assert result.code == 0, result.stderr


async def cancel_while_waiting(stack: LiveStack, sc: Scenario) -> None:
    # After the payment-overdue escalation, so the end state does not depend on timing.
    await wait_status(stack, sc.order_id, lambda s: bool(s["escalations"]))
    result = await stack.run("starter.py", "cancel", sc.order_id, "--reason", "changed my mind")
    assert result.code == 0, result.stderr


async def notify_payment_twice(stack: LiveStack, sc: Scenario) -> None:
    amount = "600.00"
    args = ("starter.py", "confirm-payment", sc.order_id, "--transaction-id", sc.transaction_id,
            "--amount", amount, "--json")  # fmt: skip
    first, second = await asyncio.gather(stack.run(*args), stack.run(*args))
    results = sorted([first.json()["result"], second.json()["result"]])
    assert results == ["accepted", "duplicate"], (first, second)


SCENARIOS = [
    Scenario("alipay-plan", Stage.ACTIVE),
    Scenario("wechat-advanced", Stage.ACTIVE, method="wechat_pay", to_plan="basic",
             features=("api.cloud_recording",)),
    Scenario("bank-media", Stage.ACTIVE, method="bank_card", features=("video.fhd_1080p",)),
    Scenario("capability", Stage.ACTIVE, features=("ai.conversational_multimodal",)),
    Scenario("pay-fail", Stage.FAILED, txn="pay-fail"),
    Scenario("pay-review", Stage.ACTIVE, slow=True, method="corporate_transfer", txn="pay-review",
             act=approve_review),
    Scenario("pay-never", Stage.EXPIRED, slow=True, txn="pay-never",
             escalations=("payment_overdue",)),
    Scenario("pay-short", Stage.FAILED, txn="pay-short", escalations=("reconciliation_mismatch",),
             compensations=("refund_payment",), act=lambda st, sc: resolve(st, sc, "reject")),
    Scenario("acct-stale", Stage.ACTIVE, account="acct-stale",
             escalations=("reconciliation_mismatch",),
             act=lambda st, sc: resolve(st, sc, "approve")),
    Scenario("nocap", Stage.FAILED, app="nocap", features=("ai.conversational_multimodal",),
             escalations=("capacity_refused",),
             compensations=("release_allocation", "revert_billing_plan", "refund_payment"),
             act=lambda st, sc: resolve(st, sc, "reject")),
    Scenario("lag", Stage.ACTIVE, app="lag", escalations=("activation_sla",)),
    Scenario("flaky", Stage.ACTIVE, app="flaky"),
    Scenario("cancel", Stage.CANCELLED, txn="pay-never", escalations=("payment_overdue",),
             act=cancel_while_waiting),
    # The channel pushes instead of answering polls (a CLI round trip is an hour at 3600x, past
    # an instant method's 30 min deadline: a corporate transfer has days).
    Scenario("pushed", Stage.ACTIVE, method="corporate_transfer", txn="pay-never",
             act=notify_payment_twice),
]  # fmt: skip


async def drive(stack: LiveStack, sc: Scenario) -> None:
    args = [
        "starter.py", "start", "--json",
        "--order-id", sc.order_id, "--account-id", f"{sc.account}-{sc.name}",
        "--app-id", f"{sc.app}-{sc.name}", "--from-plan", "basic", "--to-plan", sc.to_plan,
        "--payment-method", sc.method, "--transaction-id", sc.transaction_id,
    ]  # fmt: skip
    for feature in sc.features:
        args += ["--feature", feature]
    first = await stack.run(*args)
    assert first.code == 0, first.stderr
    again = await stack.run(*args)
    assert again.code == 0, again.stderr
    sc.result["start"] = (first.json(), again.json())
    if sc.act is not None:
        await sc.act(stack, sc)
    await wait_status(stack, sc.order_id, ended, timeout=400)
    final = await stack.run("starter.py", "status", sc.order_id, "--json")
    assert final.code == 0, final.stderr
    sc.result["status"] = final.json()
    ledger = await stack.run("-m", "sandbox", "ledger", "--order", sc.order_id, "--json")
    assert ledger.code == 0, ledger.stderr
    sc.result["ledger"] = ledger.json()


@pytest.fixture(scope="module")
def outcomes(stack: LiveStack) -> dict[str, Scenario]:
    # At 3600x a second of wall time is an hour of policy time: a 30 min payment deadline is half
    # a second. Starting every scenario's CLI processes at once would starve the worker of CPU on
    # a 2-core machine and turn that into spurious escalations; so the slow scenarios (days of
    # policy time) run alongside, and the others one after another, as an operator would.
    async def one_by_one(scenarios: list[Scenario]) -> None:
        for sc in scenarios:
            await drive(stack, sc)

    async def all_scenarios() -> None:
        slow = [sc for sc in SCENARIOS if sc.slow]
        await asyncio.gather(
            *(drive(stack, sc) for sc in slow), one_by_one([sc for sc in SCENARIOS if not sc.slow])
        )
        stack.forget_client()  # bound to this event loop

    asyncio.run(all_scenarios())
    if os.environ.get("UPGRADE_RECORD_HISTORIES") == "1":
        asyncio.run(record_histories(stack))
    return {sc.name: sc for sc in SCENARIOS}


async def record_histories(stack: LiveStack) -> None:
    client = await stack.client()
    HISTORIES.mkdir(parents=True, exist_ok=True)
    for sc in SCENARIOS:
        history = await client.get_workflow_handle(f"upgrade-{sc.order_id}").fetch_history()
        compact = json.dumps(json.loads(history.to_json()), separators=(",", ":"))
        Path(HISTORIES / f"{sc.name}.json").write_text(compact, "utf-8")


@pytest.mark.parametrize("name", [sc.name for sc in SCENARIOS])
def test_scenario_reaches_its_end_state(outcomes: dict[str, Scenario], name: str) -> None:
    sc = outcomes[name]
    status = sc.result["status"]
    assert status["stage"] == sc.end.value, status
    assert tuple(e["reason"] for e in status["escalations"]) == sc.escalations
    # Every ticket is closed once the run has ended.
    assert all(e["closed_at"] for e in status["escalations"])
    if sc.compensations:
        assert tuple(c["step"] for c in status["compensations"]) == sc.compensations


@pytest.mark.parametrize("name", [sc.name for sc in SCENARIOS])
def test_repeated_start_gives_the_same_run(outcomes: dict[str, Scenario], name: str) -> None:
    first, again = outcomes[name].result["start"]
    assert first["created"] is True and again["created"] is False
    assert again["run_id"] == first["run_id"]
    assert first["workflow_id"] == f"upgrade-{outcomes[name].order_id}"


@pytest.mark.parametrize("name", [sc.name for sc in SCENARIOS])
def test_ledger_shows_each_effect_exactly_once(outcomes: dict[str, Scenario], name: str) -> None:
    sc = outcomes[name]
    ledger = sc.result["ledger"]
    assert all(e["order_id"] == sc.order_id for e in ledger)
    keys = Counter(e["key"] for e in ledger)
    assert [k for k, n in keys.items() if n > 1] == []
    actions = Counter(f"{e['system']}/{e['action']}" for e in ledger)
    active = sc.end is Stage.ACTIVE
    assert actions["billing/update_plan"] == (0 if sc.name in ("pay-fail", "pay-never", "cancel",
                                                               "pay-short") else 1)  # fmt: skip
    assert actions["entitlements/activate"] == (1 if active else 0)
    assert actions["payments/refund"] == (1 if "refund_payment" in sc.compensations else 0)
    assert actions["tickets/open"] == len(sc.escalations)
    assert actions["tickets/close"] == len(sc.escalations)
    if active:
        assert actions["config/push"] >= 8
