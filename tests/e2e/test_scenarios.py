"""End to end: dev server + sandbox + worker as real processes, driven through the CLIs.

Every scenario token of the sandbox reaches its expected end state; a repeated start gives the
same run; the sandbox ledger shows each effect exactly once. With `UPGRADE_RECORD_HISTORIES=1`
the runs' histories are written to `tests/histories/` for the replay test (`make histories`).

Time scales. The platform (sandbox) runs at 3600x, so its delays are short. Each order carries
its own policy scale (the starter resolves the policy with its `UPGRADE_TIME_SCALE` and writes it
into the workflow input), chosen per scenario class so that no verdict depends on how fast the
machine is:
- calm (60x): every scenario that must NOT escalate. Its tightest deadline is the instant
  methods' 30 min payment deadline, 30 s of wall time, while the payment is confirmed ~0.1 s
  after the start (the sandbox answers at 3600x); the 2 h activation SLA is 120 s of wall time
  against a run that needs under 10 s. Only a stall of half a minute could escalate one of them.
- forced (3600x and more): scenarios whose escalations the scenario itself forces (a payment that
  never comes, a region that lags 3 h). Each one's assertion holds whatever the load: no payment
  means no SLA, and a lagging region only gets later when the machine is slow.
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

from client.upgrades import UpgradeNotFound, upgrade_status
from domain.stages import Stage
from tests.support.live_stack import ROOT, LiveStack
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

# The platform's scale (the sandbox's delays) and the two classes of order scale (see above).
PLATFORM_SCALE = 3600
CALM = 60.0
FORCED = 3600.0
HISTORIES = ROOT / "tests" / "histories"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("stack"), time_scale=PLATFORM_SCALE)
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
    # Every escalation the run must have, and no other (see the module docstring for why that
    # holds under load at the scenario's scale).
    escalations: tuple[str, ...] = ()
    # The order's policy time scale: CALM unless the scenario forces its escalations.
    scale: float = CALM
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
    of CPU on a small machine)."""
    client = await stack.client()

    async def probe() -> dict[str, Any]:
        try:
            return (await upgrade_status(client, order_id)).model_dump(mode="json")
        except UpgradeNotFound:
            return {}

    return await eventually(
        probe, lambda s: bool(s) and done(s), what=f"{order_id} reach its condition",
        within=timeout, every=0.25,
    )  # fmt: skip


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


def confirm_payment_args(sc: Scenario) -> tuple[str, ...]:
    amount = "600.00"
    return ("starter.py", "confirm-payment", sc.order_id, "--transaction-id", sc.transaction_id,
            "--amount", amount, "--json")  # fmt: skip


async def notify_payment_twice(stack: LiveStack, sc: Scenario) -> None:
    args = confirm_payment_args(sc)
    first, second = await asyncio.gather(stack.run(*args), stack.run(*args))
    results = sorted([first.json()["result"], second.json()["result"]])
    assert results == ["accepted", "duplicate"], (first, second)


async def notify_payment(stack: LiveStack, sc: Scenario) -> None:
    result = await stack.run(*confirm_payment_args(sc))
    assert result.code == 0 and result.json()["result"] == "accepted", result


SCENARIOS = [
    Scenario("alipay-plan", Stage.ACTIVE),
    Scenario("wechat-advanced", Stage.ACTIVE, method="wechat_pay", to_plan="basic",
             features=("api.cloud_recording",)),
    Scenario("bank-media", Stage.ACTIVE, method="bank_card", features=("video.fhd_1080p",)),
    Scenario("capability", Stage.ACTIVE, features=("ai.conversational_multimodal",)),
    Scenario("pay-fail", Stage.FAILED, txn="pay-fail"),
    Scenario("pay-review", Stage.ACTIVE, slow=True, method="corporate_transfer", txn="pay-review",
             act=approve_review),
    # Forced: no payment ever, so payment_overdue must come and nothing else can (no SLA without
    # a payment). 14400x keeps the 7-day expiry at 42 s of wall time.
    Scenario("pay-never", Stage.EXPIRED, slow=True, txn="pay-never", scale=4 * FORCED,
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
    # Forced: a lagging region applies 3 h after its first push (3 s at the platform's 3600x),
    # the SLA is 2 h after the payment (1 s at 7200x), and a slow machine only makes the region
    # later. The payment is pushed (a corporate transfer's 3 business days are >= 36 s away at
    # 7200x), so no instant method's sub-second payment deadline can add an escalation.
    Scenario("lag", Stage.ACTIVE, app="lag", method="corporate_transfer", txn="pay-never",
             scale=2 * FORCED, escalations=("activation_sla",), act=notify_payment),
    Scenario("flaky", Stage.ACTIVE, app="flaky"),
    # Forced: never paid, so payment_overdue must come (and no SLA can); cancelled after it.
    Scenario("cancel", Stage.CANCELLED, txn="pay-never", scale=FORCED,
             escalations=("payment_overdue",), act=cancel_while_waiting),
    # The channel pushes instead of answering polls.
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
    # The order's policy is resolved by the starter at this scale (see the module docstring).
    scale = {"UPGRADE_TIME_SCALE": f"{sc.scale:g}"}
    first = await stack.run(*args, env=scale)
    assert first.code == 0, first.stderr
    again = await stack.run(*args, env=scale)
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
    # The slow scenarios (tens of seconds of waiting for a channel) run alongside; the others one
    # after another, as an operator would: starting every scenario's CLI processes at once would
    # only make the run longer on a 2-core machine (the verdicts do not depend on it).
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
    assert actions["billing/update_billing_plan"] == (0 if sc.name in ("pay-fail", "pay-never", "cancel",
                                                               "pay-short") else 1)  # fmt: skip
    assert actions["entitlements/activate_entitlements"] == (1 if active else 0)
    assert actions["payments/refund_payment"] == (1 if "refund_payment" in sc.compensations else 0)
    assert actions["tickets/escalate"] == len(sc.escalations)
    assert actions["tickets/close_ticket"] == len(sc.escalations)
    if active:
        assert actions["config/push_config"] >= 8
