"""End to end, orders of ONE account through real processes: issue 11's sequences 1 and 3 reach a
consistent final state, as the platform's three read endpoints and `starter.py audit` (its
cross-order check included) show.

- Sequence 1: A (basic -> premium + a capability) is billed, then parks in `needs_attention`
  (`nocap` app: no compute), holding its account; B (basic -> premium + recording, another app of
  the account) is paid and waits for the account, its status naming A; an operator rejects A,
  whose undo restores basic; then B runs to `active` on top of it.
- Sequence 3: B (basic -> basic + recording) ends active, then A (basic -> premium) runs on the
  same app: billing, every region and the entitlements keep the recording.

Scales as in `test_scenarios.py`: the platform at 3600x, each order's policy at 60x (calm).
"""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from domain.stages import Stage
from tests.e2e.test_scenarios import CALM, PLATFORM_SCALE, at_stage, ended, wait_status
from tests.support.live_stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

RECORDING = "api.cloud_recording"
CAPABILITY = "ai.conversational_multimodal"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("same-account"), time_scale=PLATFORM_SCALE)
    try:
        live.start()
        yield live
    finally:
        live.stop()


async def start(stack: LiveStack, order_id: str, account: str, app: str, from_plan: str,
                to_plan: str, *features: str) -> None:  # fmt: skip
    args = ["starter.py", "start", "--json", "--order-id", order_id, "--account-id", account,
            "--app-id", app, "--from-plan", from_plan, "--to-plan", to_plan,
            "--payment-method", "alipay", "--transaction-id", f"txn-{order_id}"]  # fmt: skip
    for feature in features:
        args += ["--feature", feature]
    result = await stack.run(*args, env={"UPGRADE_TIME_SCALE": f"{CALM:g}"})
    assert result.code == 0, result.stderr


async def final_stage(stack: LiveStack, order_id: str) -> str:
    status = await wait_status(stack, order_id, ended, timeout=400)
    stage: str = status["stage"]
    return stage


async def sequence_1(stack: LiveStack) -> dict[str, str]:
    await start(stack, "E2E-SAME-1A", "acct-same1", "nocap-same1a", "basic", "premium", CAPABILITY)
    await wait_status(stack, "E2E-SAME-1A", at_stage(Stage.NEEDS_ATTENTION))
    await start(stack, "E2E-SAME-1B", "acct-same1", "app-same1b", "basic", "premium", RECORDING)
    waiting = await wait_status(
        stack, "E2E-SAME-1B", lambda s: "E2E-SAME-1A" in (s.get("waiting_for") or "")
    )
    assert waiting["stage"] == Stage.RECONCILING.value
    result = await stack.run("starter.py", "resolve", "E2E-SAME-1A", "--action", "reject",
                             "--note", "e2e: no capacity", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    ends = {"A": await final_stage(stack, "E2E-SAME-1A")}
    ends["B"] = await final_stage(stack, "E2E-SAME-1B")
    return ends


async def sequence_3(stack: LiveStack) -> dict[str, str]:
    await start(stack, "E2E-SAME-3B", "acct-same3", "app-same3", "basic", "basic", RECORDING)
    ends = {"B": await final_stage(stack, "E2E-SAME-3B")}
    await start(stack, "E2E-SAME-3A", "acct-same3", "app-same3", "basic", "premium")
    ends["A"] = await final_stage(stack, "E2E-SAME-3A")
    return ends


@pytest.fixture(scope="module")
def outcomes(stack: LiveStack) -> dict[str, Any]:
    async def both() -> dict[str, Any]:
        one, three = await asyncio.gather(sequence_1(stack), sequence_3(stack))
        stack.forget_client()  # bound to this event loop
        return {"1": one, "3": three}

    return asyncio.run(both())


def read(stack: LiveStack, path: str) -> Any:
    response = httpx.get(stack.env["UPGRADE_PLATFORM_URL"] + path, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def served(stack: LiveStack, app: str) -> set[tuple[str | None, tuple[str, ...]]]:
    regions = read(stack, f"/v1/config/apps/{app}/regions/current")["regions"]
    return {(s["plan"], tuple(s["features"])) for s in regions.values()}


def test_sequence_1_a_rejected_order_leaves_the_other_orders_plan(
    stack: LiveStack, outcomes: dict[str, Any]
) -> None:
    assert outcomes["1"] == {"A": "failed", "B": "active"}
    # A's undo ran before B touched the account (the lease): it restored basic, and B's billing
    # came after it.
    ledger = asyncio.run(stack.run("-m", "sandbox", "ledger", "--order", "E2E-SAME-1A", "--json"))
    [revert] = [e for e in ledger.json() if e["action"] == "revert_billing_plan"]
    assert revert["detail"]["restored_plan"] == "basic"
    later = asyncio.run(stack.run("-m", "sandbox", "ledger", "--order", "E2E-SAME-1B", "--json"))
    [billed] = [e for e in later.json() if e["action"] == "update_billing_plan"]
    assert billed["seq"] > revert["seq"]
    account = read(stack, "/v1/billing/accounts/acct-same1")
    assert (account["plan"], account["features"]) == ("premium", [RECORDING])
    assert account["quota_rules"] == f"monthly:premium+{RECORDING}"
    entitled = read(stack, "/v1/entitlements/apps/app-same1b")
    assert (entitled["plan"], entitled["features"]) == ("premium", [RECORDING])
    assert served(stack, "app-same1b") == {("premium", (RECORDING,))}


def test_sequence_3_add_ons_accumulate(stack: LiveStack, outcomes: dict[str, Any]) -> None:
    assert outcomes["3"] == {"B": "active", "A": "active"}
    account = read(stack, "/v1/billing/accounts/acct-same3")
    assert (account["plan"], account["features"]) == ("premium", [RECORDING])
    entitled = read(stack, "/v1/entitlements/apps/app-same3")
    assert (entitled["plan"], entitled["features"]) == ("premium", [RECORDING])
    assert served(stack, "app-same3") == {("premium", (RECORDING,))}


def test_the_audit_across_orders_is_clean(stack: LiveStack, outcomes: dict[str, Any]) -> None:
    result = asyncio.run(
        stack.run("starter.py", "audit", "--json", "--order-prefix", "E2E-SAME", timeout=180)
    )
    report = result.json()
    assert result.code == 0 and report["clean"], report["violations"]
    assert report["summary"]["orders"] == 4


# A same-account batch: one order moves the account to premium, then 29 orders of that account
# (add-ons on three apps) are paid at once, and five of them are cancelled while they wait.
BATCH = 30
BATCH_SCALE = 600.0  # policy 10x faster than CALM: 29 orders go one after the other
ADDONS = (RECORDING, "api.traffic_boost", "video.hd_720p")
# Cancelled right after the batch is paid: the last ones to ask for the account, so most likely
# still waiting; one that got the account and passed `propagating` first refuses the cancel (too
# late) and must end active instead. Either way the platform ends on the fold of the actives.
CANCELLED = {21, 23, 25, 27, 29}


def batch_order(n: int) -> str:
    return f"E2E-BATCH-{n:02d}"


async def start_batch_order(stack: LiveStack, n: int, gate: asyncio.Semaphore) -> None:
    plan_from = "basic" if n == 0 else "premium"
    args = ["starter.py", "start", "--json", "--order-id", batch_order(n), "--account-id",
            "acct-batch", "--app-id", f"app-batch-{n % 3}", "--from-plan", plan_from,
            "--to-plan", "premium", "--payment-method", "alipay",
            "--transaction-id", f"txn-{batch_order(n)}"]  # fmt: skip
    if n:
        args += ["--feature", ADDONS[n % 3]]
    async with gate:  # a few CLI processes at a time: each is a Python start-up on 2 cores
        result = await stack.run(*args, env={"UPGRADE_TIME_SCALE": f"{BATCH_SCALE:g}"})
    assert result.code == 0, result.stderr


@dataclass
class Batch:
    ends: dict[str, str]
    cancelled: set[int]  # the cancels the runs accepted


@pytest.fixture(scope="module")
def batch(stack: LiveStack, outcomes: dict[str, Any]) -> Batch:
    async def run_batch() -> Batch:
        gate = asyncio.Semaphore(4)
        await start_batch_order(stack, 0, gate)
        ends = {batch_order(0): await final_stage(stack, batch_order(0))}
        await asyncio.gather(*(start_batch_order(stack, n, gate) for n in range(1, BATCH)))
        accepted = set()
        for n in sorted(CANCELLED):
            result = await stack.run("starter.py", "cancel", batch_order(n), "--reason",
                                     "e2e: changed my mind", "--json")  # fmt: skip
            if result.code == 0:
                accepted.add(n)
            else:  # too late: only a run past the cancellable stages refuses
                assert "cancel" in result.stderr.lower(), result.stderr
        for n in range(1, BATCH):
            ends[batch_order(n)] = await final_stage(stack, batch_order(n))
        stack.forget_client()
        return Batch(ends, accepted)

    return asyncio.run(run_batch())


def test_a_same_account_batch_ends_consistent(stack: LiveStack, batch: Batch) -> None:
    cancelled = batch.cancelled
    expected = {batch_order(n): "cancelled" if n in cancelled else "active" for n in range(BATCH)}
    assert batch.ends == expected
    active = [n for n in range(1, BATCH) if n not in cancelled]
    account = read(stack, "/v1/billing/accounts/acct-batch")
    assert account["plan"] == "premium"
    assert set(account["features"]) == {ADDONS[n % 3] for n in active}
    for app in range(3):
        features = {ADDONS[n % 3] for n in active if n % 3 == app}
        entitled = read(stack, f"/v1/entitlements/apps/app-batch-{app}")
        assert (entitled["plan"], set(entitled["features"])) == ("premium", features)
    result = asyncio.run(
        stack.run("starter.py", "audit", "--json", "--order-prefix", "E2E-BATCH", timeout=180)
    )
    report = result.json()
    assert result.code == 0 and report["clean"], report["violations"]
    assert report["summary"]["orders"] == BATCH
