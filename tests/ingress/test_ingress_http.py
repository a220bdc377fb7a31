"""The ingress over real HTTP on loopback: `python -m ingress` in front of a dev server, a worker
and the sandbox (LiveStack), at 3600x.

Orders that must stay in `awaiting_payment` are corporate transfers with a `pay-never`
transaction: the channel never answers a poll, so only our notifications move them, and their
payment deadline (3 business days) is over a minute of wall time away at this scale.

Over ~300 lines on purpose: every route of the ingress against one shared stack (starting one
costs seconds), so one module holds the stack and the route tests that use it.
"""

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from client.ack_journal import AckJournal, read_acks
from ingress.settings import DEV_BACKEND_TOKEN, DEV_CHANNEL_SECRETS, DEV_OPERATOR_TOKEN
from ingress.signature import sign
from service.ports import free_port
from tests.support.live_stack import ROOT, LiveStack
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TIME_SCALE = 3600
BACKEND = {"Authorization": f"Bearer {DEV_BACKEND_TOKEN}"}
OPERATOR = {"Authorization": f"Bearer {DEV_OPERATOR_TOKEN}"}
CORPORATE = "corporate_transfer"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("ingress"), time_scale=TIME_SCALE)
    try:
        live.start(ingress=True)
        yield live
    finally:
        live.stop()


@pytest.fixture
async def http(stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.ingress_url, timeout=30) as client:
        yield client


def order(order_id: str, method: str = CORPORATE, **changes: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "account_id": f"acct-{order_id}",
        "app_id": f"app-{order_id}",
        "from_plan": "basic",
        "to_plan": "premium",
        "features": [],
        "payment_method": method,
        "transaction_id": f"txn-pay-never-{order_id}",
        "amount": "600.00",
        "currency": "CNY",
    } | changes


def notice(order_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "transaction_id": f"txn-pay-never-{order_id}",
        "amount": "600.00",
        "currency": "CNY",
        "status": "succeeded",
    } | changes


def signed(body: bytes, channel: str = CORPORATE, secret: str | None = None) -> dict[str, str]:
    # Unknown channels have no secret: sign with anything, the channel is refused first.
    key = secret if secret is not None else DEV_CHANNEL_SECRETS.get(channel, "none")  # type: ignore[call-overload]
    return {"X-Signature": sign(body, key), "Content-Type": "application/json"}


async def notify(
    http: httpx.AsyncClient, body: dict[str, Any] | bytes, channel: str = CORPORATE
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await http.post(
        f"/v1/payments/notify/{channel}", content=raw, headers=signed(raw, channel)
    )


async def start(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/v1/upgrades", json=body, headers=BACKEND)


async def status(http: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await http.get(f"/v1/upgrades/{order_id}", headers=BACKEND)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def wait_stage(http: httpx.AsyncClient, order_id: str, stages: set[str]) -> dict[str, Any]:
    return await eventually(
        lambda: status(http, order_id),
        lambda current: current["stage"] in stages,
        what=f"{order_id} reach {sorted(stages)}",
    )


def assert_problem(response: httpx.Response, status_code: int, field: str | None = None) -> None:
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == status_code
    assert problem["type"].startswith("/problems/") and problem["title"] and problem["detail"]
    if field is not None:
        assert problem["field"] == field, problem
        assert problem["errors"][0]["field"] == field


async def ledger(stack: LiveStack, order_id: str) -> Counter[str]:
    result = await stack.run("-m", "sandbox", "ledger", "--order", order_id, "--json")
    assert result.code == 0, result.stderr
    return Counter(f"{e['system']}/{e['action']}" for e in result.json())


@pytest.fixture(scope="module")
def waiting_order(stack: LiveStack) -> str:
    """An order that waits for its payment for the whole module: nothing here may move it."""

    async def create() -> None:
        async with httpx.AsyncClient(base_url=stack.ingress_url, timeout=30) as http:
            response = await start(http, order("ING-WAIT"))
            assert response.status_code == 201, response.text

    asyncio.run(create())
    return "ING-WAIT"


async def assert_untouched(http: httpx.AsyncClient, order_id: str) -> None:
    current = await status(http, order_id)
    assert current["stage"] == "awaiting_payment"
    assert current["payment"]["status"] == "pending" and current["payment"]["notices"] == 0


# ---------------------------------------------------------------------------------------- health
async def test_health_readiness_and_openapi(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    spec = (await http.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Upgrade Activation ingress"
    assert {"/v1/payments/notify/{channel}", "/v1/upgrades", "/v1/upgrades/{order_id}",
            "/v1/upgrades/{order_id}/cancel", "/v1/upgrades/{order_id}/resolve", "/healthz",
            "/readyz"} <= spec["paths"].keys()  # fmt: skip
    notify_401 = spec["paths"]["/v1/payments/notify/{channel}"]["post"]["responses"]["401"]
    assert notify_401["content"]["application/problem+json"]["schema"]["$ref"].endswith("Problem")
    docs = await http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    kind = await http.get("/problems/bad-signature")
    assert kind.json()["title"] == "Signature missing or invalid"


def test_unreachable_temporal_and_missing_configuration(stack: LiveStack) -> None:
    """An ingress pointed at a closed port: alive, not ready, and a closed door where a secret or
    token is missing (503, never open)."""
    port = free_port()
    env = stack.env | {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # nothing listens there
        "UPGRADE_INGRESS_PORT": str(port),
        "UPGRADE_OPERATOR_TOKEN": "",
        "UPGRADE_CHANNEL_SECRET_BANK_CARD": "",
    }
    log = (stack.data_dir / "ingress-unreachable.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingress"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=10) as http:
            wait_http(http, "/healthz", proc)
            not_ready = http.get("/readyz")
            assert_problem(not_ready, 503)
            assert not_ready.json()["type"] == "/problems/temporal-unavailable"
            assert not_ready.headers["retry-after"]
            # Anything that needs Temporal says so, and the channel will retry.
            raw = json.dumps(notice("ING-NOWHERE")).encode()
            delivered = http.post(
                f"/v1/payments/notify/{CORPORATE}", content=raw, headers=signed(raw)
            )
            assert_problem(delivered, 503)
            assert delivered.headers["retry-after"]
            # No operator token configured: resolve is closed, even to a would-be operator.
            closed = http.post(
                "/v1/upgrades/ING-NOWHERE/resolve", json={"action": "approve"}, headers=OPERATOR
            )
            assert_problem(closed, 503)
            assert closed.json()["type"] == "/problems/not-configured"
            # The backend token still opens the backend's endpoints (then Temporal is missing).
            backend = http.get("/v1/upgrades/ING-NOWHERE", headers=BACKEND)
            assert_problem(backend, 503)
            assert backend.json()["type"] == "/problems/temporal-unavailable"
            raw = json.dumps(notice("ING-NOWHERE")).encode()
            no_secret = http.post(
                "/v1/payments/notify/bank_card", content=raw, headers=signed(raw, "bank_card")
            )
            assert_problem(no_secret, 503)
            assert no_secret.json()["type"] == "/problems/not-configured"
    finally:
        proc.terminate()
        code = proc.wait(timeout=20)
        log.close()
    assert code == 0  # SIGTERM is a clean stop


def wait_http(http: httpx.Client, path: str, proc: "subprocess.Popen[bytes]") -> None:
    for _ in range(150):
        assert proc.poll() is None, f"ingress exited with {proc.returncode}"
        try:
            if http.get(path).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{path} never answered")


# ------------------------------------------------------------------------------ authentication
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"X-Signature": "sha256=" + "0" * 64}, id="wrong"),
        pytest.param({"X-Signature": "md5=abc"}, id="malformed"),
        pytest.param("other-secret", id="other-channels-secret"),
        pytest.param("tampered", id="body-changed-after-signing"),
    ],
)
async def test_bad_signatures_are_401_and_change_nothing(
    http: httpx.AsyncClient, waiting_order: str, headers: Any
) -> None:
    raw = json.dumps(notice(waiting_order)).encode()
    if headers == "other-secret":
        headers = signed(raw, secret=DEV_CHANNEL_SECRETS["alipay"])  # type: ignore[index]
    elif headers == "tampered":
        headers = signed(raw)
        raw = raw.replace(b"600.00", b"6.00")
    response = await http.post(f"/v1/payments/notify/{CORPORATE}", content=raw, headers=headers)
    assert_problem(response, 401, field="X-Signature")
    await assert_untouched(http, waiting_order)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(b'{"order_id": "ING-WAIT",', "body", id="bad-json"),
        pytest.param(b"[1, 2]", "body", id="not-an-object"),
        pytest.param({"amount": None}, "amount", id="missing-amount"),
        pytest.param({"status": None}, "status", id="missing-status"),
        pytest.param({"amount": "-600.00"}, "amount", id="negative-amount"),
        pytest.param({"amount": "six hundred"}, "amount", id="amount-not-a-number"),
        pytest.param({"status": "pending"}, "status", id="unknown-status"),
        pytest.param({"currency": "cny"}, "currency", id="bad-currency"),
        pytest.param({"order_id": None}, "order_id", id="missing-order-id"),
        pytest.param({"extra": 1}, "extra", id="unknown-field"),
        # Well-formed, but not this order's payment: the run's own validator names the field.
        # (A `succeeded` one is money taken: held in custody, `tests/ingress/test_custody_http`.)
        pytest.param({"amount": "601.00", "status": "under_review"}, "amount", id="amount-differs"),
        pytest.param(
            {"transaction_id": "txn-other", "status": "failed"},
            "transaction_id",
            id="transaction-differs",
        ),
    ],
)
async def test_malformed_notices_are_422_naming_the_field(
    http: httpx.AsyncClient, waiting_order: str, body: Any, field: str
) -> None:
    if isinstance(body, dict):
        fields = notice(waiting_order) | body
        body = {k: v for k, v in fields.items() if v is not None}
    response = await notify(http, body)
    assert_problem(response, 422, field=field)
    await assert_untouched(http, waiting_order)


async def test_an_oversized_body_is_refused(http: httpx.AsyncClient, waiting_order: str) -> None:
    response = await notify(http, notice(waiting_order, padding="x" * 20_000))
    assert_problem(response, 413, field="body")
    await assert_untouched(http, waiting_order)


async def test_a_notice_on_another_channel_is_422_naming_the_channel(
    http: httpx.AsyncClient, waiting_order: str
) -> None:
    review = notice(waiting_order, status="under_review")
    response = await notify(http, review, channel="alipay")
    assert_problem(response, 422, field="channel")
    # Money another channel took for this order cannot pay it: held by its custody instead.
    paid = await notify(http, notice(waiting_order, transaction_id="txn-ali-W"), channel="alipay")
    assert paid.status_code == 200, paid.text
    assert paid.json() == {"result": "held", "custody": "payment-alipay-txn-ali-W"}
    unknown = await notify(http, notice(waiting_order), channel="paypal")
    assert_problem(unknown, 404, field="channel")
    await assert_untouched(http, waiting_order)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        pytest.param({}, 401, id="no-token"),
        pytest.param({"Authorization": "Bearer wrong"}, 401, id="bad-token"),
        pytest.param({"Authorization": DEV_OPERATOR_TOKEN}, 401, id="not-bearer"),
        pytest.param(BACKEND, 401, id="backend-token-cannot-resolve"),
        # The operator gets through; the run refuses: it does not wait for a decision.
        pytest.param(OPERATOR, 409, id="operator"),
    ],
)
async def test_resolve_needs_the_operator_token(
    http: httpx.AsyncClient, waiting_order: str, headers: dict[str, str], code: int
) -> None:
    response = await http.post(
        f"/v1/upgrades/{waiting_order}/resolve", json={"action": "approve"}, headers=headers
    )
    assert_problem(response, code, field="action" if code == 409 else None)
    if code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    await assert_untouched(http, waiting_order)


async def test_backend_endpoints_need_a_token(http: httpx.AsyncClient, waiting_order: str) -> None:
    assert_problem(await http.post("/v1/upgrades", json=order("ING-NOTOKEN")), 401)
    assert_problem(await http.get(f"/v1/upgrades/{waiting_order}"), 401)
    assert_problem(await http.post(f"/v1/upgrades/{waiting_order}/cancel", json={}), 401)
    unknown = await http.get("/v1/upgrades/ING-NOTOKEN", headers=OPERATOR)
    assert_problem(unknown, 404, field="order_id")  # the 401 above started nothing
    await assert_untouched(http, waiting_order)


# ------------------------------------------------------------------------------ start and status
async def test_start_is_idempotent_over_http(http: httpx.AsyncClient) -> None:
    body = order("ING-START")
    first, again = await start(http, body), await start(http, body)
    assert first.status_code == 201 and again.status_code == 200, (first.text, again.text)
    assert first.json()["created"] is True and again.json()["created"] is False
    assert first.json()["run_id"] == again.json()["run_id"]
    assert first.json()["workflow_id"] == "upgrade-ING-START"
    assert first.headers["location"] == again.headers["location"] == "/v1/upgrades/ING-START"
    # The same order id with other contents is a conflict, not a silent "already exists".
    conflict = await start(http, body | {"amount": "700.00"})
    assert_problem(conflict, 409, field="amount")
    current = await status(http, "ING-START")
    assert current["workflow_id"] == "upgrade-ING-START" and current["eta"]["basis"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"to_plan": "gold"}, "to_plan", id="unknown-plan"),
        pytest.param({"from_plan": "premium", "to_plan": "basic"}, "to_plan", id="downgrade"),
        pytest.param({"payment_method": "cash"}, "payment_method", id="unknown-method"),
        pytest.param({"amount": "0"}, "amount", id="zero-amount"),
        pytest.param({"order_id": "no spaces"}, "order_id", id="bad-order-id"),
    ],
)
async def test_invalid_orders_are_422_naming_the_field_and_start_nothing(
    http: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    response = await start(http, order("ING-BAD") | changes)
    assert_problem(response, 422, field=field)
    assert_problem(await http.get("/v1/upgrades/ING-BAD", headers=BACKEND), 404)


async def test_status_of_an_unknown_order_is_404(http: httpx.AsyncClient) -> None:
    assert_problem(await http.get("/v1/upgrades/ING-NEVER", headers=BACKEND), 404, "order_id")
    assert_problem(await http.get("/v1/upgrades/bad%20id", headers=BACKEND), 422, "order_id")


# ------------------------------------------------------------------------------ delivery
async def test_concurrent_notifications_are_accepted_once(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "ING-BURST"
    created = await start(http, order(order_id))
    assert created.status_code == 201, created.text
    raw = json.dumps(notice(order_id)).encode()
    answers = await asyncio.gather(*(notify(http, raw) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    assert Counter(a.json()["result"] for a in answers) == {"accepted": 1, "duplicate": 9}
    final = await wait_stage(http, order_id, {"active", "failed", "cancelled", "expired"})
    assert final["stage"] == "active", final
    assert final["payment"]["via"] == "notification" and final["payment"]["notices"] == 1
    # A re-delivery after the run has ended (and out of order) is still a harmless duplicate.
    for late in (raw, json.dumps(notice(order_id, status="under_review")).encode()):
        again = await notify(http, late)
        assert again.status_code == 200 and again.json() == {"result": "duplicate"}, again.text
    # ... but a late notice that is not this order's payment is still refused (a `succeeded`
    # one would be held by the transaction's custody, which finds it claimed by this order).
    late_failed = notice(order_id, amount="1.00", status="failed")
    assert_problem(await notify(http, late_failed), 422, field="amount")
    # One run, one billing effect.
    restart = await start(http, order(order_id))
    assert restart.status_code == 200 and restart.json()["run_id"] == created.json()["run_id"]
    effects = await ledger(stack, order_id)
    assert (
        effects["billing/update_billing_plan"] == 1
        and effects["entitlements/activate_entitlements"] == 1
    )
    # What the callers were told is journaled for `starter.py audit`: one start, one notice.
    acks, torn = read_acks(AckJournal.in_dir(stack.data_dir).path)
    mine = Counter((a.kind, a.result) for a in acks if a.order_id == order_id)
    assert torn == 0 and mine[("notice", "accepted")] == 1, mine
    assert mine[("start", "created")] == 1, mine


async def test_a_notification_before_the_start_is_refused_then_accepted(
    http: httpx.AsyncClient,
) -> None:
    order_id = "ING-EARLY"
    raw = json.dumps(notice(order_id, status="under_review")).encode()
    early = await notify(http, raw)
    assert_problem(early, 404)
    assert early.json()["type"] == "/problems/order-not-started"
    assert int(early.headers["retry-after"]) > 0
    assert_problem(await http.get(f"/v1/upgrades/{order_id}", headers=BACKEND), 404)

    assert (await start(http, order(order_id))).status_code == 201
    redelivered = await notify(http, raw)
    assert redelivered.status_code == 200 and redelivered.json() == {"result": "accepted"}
    # The same delivery again while the run is live: a duplicate, nothing recorded twice.
    again = await notify(http, raw)
    assert again.status_code == 200 and again.json() == {"result": "duplicate"}
    current = await status(http, order_id)
    assert current["payment"]["status"] == "under_review" and current["payment"]["notices"] == 1


async def test_cancel_then_a_late_payment_is_held_in_custody(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "ING-CANCEL"
    assert (await start(http, order(order_id))).status_code == 201
    cancelled = await http.post(
        f"/v1/upgrades/{order_id}/cancel", json={"reason": "changed my mind"}, headers=BACKEND
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["result"] == "accepted" and cancelled.json()["stage"] == "cancelled"
    again = await http.post(f"/v1/upgrades/{order_id}/cancel", headers=BACKEND)
    assert_problem(again, 409, field="order_id")
    assert again.json()["type"] == "/problems/upgrade-ended"
    # The money arrives after the run ended without it: held by its custody (which refunds it
    # after the grace period), answered only once that is recorded.
    late = await notify(http, notice(order_id))
    assert late.status_code == 200, late.text
    assert late.json() == {
        "result": "held", "custody": f"payment-{CORPORATE}-txn-pay-never-{order_id}"
    }  # fmt: skip
    # A notice that is not money changes nothing after the end.
    unpaid = await notify(http, notice(order_id, status="failed"))
    assert_problem(unpaid, 409, field="order_id")
    assert unpaid.json()["type"] == "/problems/upgrade-ended"
    assert (await ledger(stack, order_id))["billing/update_billing_plan"] == 0
