"""Property-based bad input for the HTTP ingress, driven in-process (httpx over ASGI) against a
real Temporal client on the session dev server, nothing mocked.

What every generated case must show: a 4xx `application/problem+json` answer (never a 5xx, never
a traceback) whose `field` names the culprit, and nothing started or changed in Temporal.

- Signed notifications that are bad (every kind in `tests.properties.strategies.bad_notices`,
  aimed at a live order where the order id is not the culprit), not JSON, not one object, not
  UTF-8, oversized, or for an unknown channel; and valid notifications for the live order that
  are unsigned or wrongly signed (401): the live order's payment is never touched.
- Bad orders posted with a valid token: 422 naming the field, and no run exists for the order id
  (describe answers not found) nor on the task queue the ingress starts runs on (a count).
- Bad resolve and cancel bodies for the live order: 422 naming the field, its status unchanged.

The live order is an upgrade waiting for its payment (a fake-activity worker whose payment polls
always answer pending, real time scale: its deadline is days away), so any notice, resolution or
cancel that got through would show in its status.

Over ~300 lines on purpose: the strategies' cases share one in-process app and one live order.
"""

import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from client import upgrades
from domain.models import PaymentMethod, PaymentStatus, workflow_id_for
from ingress.app import create_app
from ingress.routes_payments import MAX_BODY_BYTES
from ingress.settings import IngressSettings
from ingress.signature import HEADER, sign
from tests.properties.counts import tally
from tests.properties.strategies import (
    Bad,
    bad_cancels,
    bad_notices,
    bad_orders,
    bad_resolutions,
    unknown_names,
)
from tests.support.fakes import FakePlatform
from tests.support.saga_runs import fake_worker, make_order, start

pytestmark = pytest.mark.timeout(240)

PROBLEM = "application/problem+json"
SECRETS = {m: f"props-{m.value}-secret-{uuid.uuid4().hex[:8]}" for m in PaymentMethod}
OPERATOR_TOKEN = f"props-operator-{uuid.uuid4().hex[:8]}"
BACKEND_TOKEN = f"props-backend-{uuid.uuid4().hex[:8]}"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
BACKEND = {"Authorization": f"Bearer {BACKEND_TOKEN}"}
# Runs the ingress would start go to this queue, which no worker polls: a leaked start stays put
# and is counted.
INGRESS_QUEUE = f"props-ingress-{uuid.uuid4().hex[:12]}"
WORKER_QUEUE = f"props-worker-{uuid.uuid4().hex[:12]}"
LIVE = make_order(f"PROPS-LIVE-{uuid.uuid4().hex[:8]}", method="alipay")
LIVE_CHANNEL = LIVE.payment_method.value
# Each test makes a request (and a query or two) per case on a shared 2-core machine.
# At most 100 cases per test (fewer under a smaller profile, e.g. `ci`).
EXAMPLES = settings(
    max_examples=min(100, settings().max_examples),
    suppress_health_check=[HealthCheck.too_slow],
)


def ingress_settings() -> IngressSettings:
    secrets = {f"channel_secret_{m.value}": s for m, s in SECRETS.items()}
    return IngressSettings(
        operator_token=OPERATOR_TOKEN,
        backend_token=BACKEND_TOKEN,
        task_queue=INGRESS_QUEUE,
        **secrets,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
async def client(dev_env: WorkflowEnvironment) -> AsyncIterator[Client]:
    """The dev server's client, with the live order waiting for its payment the whole module."""
    fake = FakePlatform(payment_statuses=[PaymentStatus.PENDING])
    async with fake_worker(dev_env.client, WORKER_QUEUE, fake):
        handle = await start(dev_env.client, LIVE, WORKER_QUEUE)
        await upgrades.upgrade_status(dev_env.client, LIVE.order_id)  # the run answers queries
        yield dev_env.client
        await handle.terminate("end of the ingress property tests")


@pytest.fixture(scope="module")
async def http(client: Client) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ingress_settings(), client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as http:
        yield http


# ------------------------------------------------------------------------------------ checks
def assert_problem(response: httpx.Response, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    assert "Traceback" not in response.text
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("/problems/") and problem["title"] and problem["detail"]
    if field is not None:
        # The refusal may name an item inside the field (`features.0`): its field is the culprit.
        for named in (problem["field"], problem["errors"][0]["field"]):
            assert named == field or named.startswith(f"{field}."), (field, problem)
    return problem


async def live_state(client: Client) -> dict[str, Any]:
    """What a notice, resolution or cancel would change (not the poll count, which ticks)."""
    status = await upgrades.upgrade_status(client, LIVE.order_id)
    payment = status.payment
    return {
        "stage": status.stage,
        "payment": (payment.status, payment.via, payment.notices, payment.confirmed_at),
        "cancel_requested": status.cancel_requested,
        "attention": status.attention,
        "compensations": status.compensations,
        "escalations": status.escalations,
    }


async def assert_never_started(client: Client, order_id: object) -> None:
    if isinstance(order_id, str) and order_id.startswith("PROPS-"):  # our unique, valid ids
        with pytest.raises(RPCError) as missing:  # describe of a run that was never started
            await client.get_workflow_handle(workflow_id_for(order_id)).describe()
        assert missing.value.status == RPCStatusCode.NOT_FOUND, missing.value
    # Whatever the id (also a malformed one), nothing landed on the ingress's queue.
    leaked = await client.count_workflows(f"TaskQueue = '{INGRESS_QUEUE}'")
    assert leaked.count == 0


def encode(data: Any) -> bytes:
    """JSON as a client would send it: amounts as strings, like the channel contract."""
    return json.dumps(data, default=str).encode()


def signed(raw: bytes, channel: str = LIVE_CHANNEL) -> dict[str, str]:
    return {HEADER: sign(raw, SECRETS[PaymentMethod(channel)]), "Content-Type": "application/json"}


async def notify(http: httpx.AsyncClient, raw: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post(f"/v1/payments/notify/{LIVE_CHANNEL}", content=raw, headers=headers)


def aimed_at_live(bad: Bad) -> Bad:
    """The bad notice for the live order, unless the order id is what is bad (or missing)."""
    if bad.field == "order_id" or "order_id" not in bad.data:
        return bad
    return Bad(bad.data | {"order_id": LIVE.order_id}, bad.field)


def live_notice(status: str) -> dict[str, Any]:
    """A notice the live order would accept (and move on) if it were ever delivered."""
    return {
        "order_id": LIVE.order_id,
        "transaction_id": LIVE.transaction_id,
        "amount": str(LIVE.amount),
        "currency": LIVE.currency,
        "status": status,
    }


# -------------------------------------------------------------------- payment notifications
@EXAMPLES
@given(bad_notices().map(aimed_at_live))
async def test_signed_bad_notices_are_refused_naming_the_field(
    http: httpx.AsyncClient, client: Client, bad: Bad
) -> None:
    tally("ingress: signed bad notices")
    before = await live_state(client)
    raw = encode(bad.data)
    response = await notify(http, raw, signed(raw))
    if len(raw) > MAX_BODY_BYTES:  # an oversized id: refused before it is parsed
        assert_problem(response, 413, "body")
    else:
        assert_problem(response, 422, bad.field)
    assert await live_state(client) == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


def not_one_object(raw: bytes) -> bool:
    try:
        return not isinstance(json.loads(raw), dict)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return True


malformed_bodies = st.one_of(
    st.binary(max_size=300),  # anything, mostly not JSON
    st.text(max_size=100).map(str.encode),
    json_values.filter(lambda v: not isinstance(v, dict)).map(encode),  # JSON, not an object
    st.lists(st.just(live_notice("succeeded")), min_size=1, max_size=3).map(encode),
    st.integers(1, 120).map(lambda cut: encode(live_notice("succeeded"))[:cut]),  # truncated
    st.builds(  # bytes that are not UTF-8 inside an otherwise plausible object
        lambda junk: b'{"order_id": "' + junk + b'", "amount": "1.00"}',
        st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]),
    ),
).filter(not_one_object)


@EXAMPLES
@given(malformed_bodies)
async def test_signed_bodies_that_are_not_one_json_object_are_refused(
    http: httpx.AsyncClient, client: Client, raw: bytes
) -> None:
    tally("ingress: signed malformed bodies")
    before = await live_state(client)
    assert_problem(await notify(http, raw, signed(raw)), 422, "body")
    assert await live_state(client) == before


@settings(max_examples=min(20, settings().max_examples))
@given(st.integers(MAX_BODY_BYTES, 4 * MAX_BODY_BYTES), st.sampled_from(["field", "spaces"]))
async def test_oversized_notices_are_refused_with_413(
    http: httpx.AsyncClient, client: Client, size: int, padding: str
) -> None:
    tally("ingress: oversized notices")
    before = await live_state(client)
    if padding == "field":
        raw = encode(live_notice("succeeded") | {"padding": "A" * size})
    else:  # JSON whitespace: the same valid notice, only too large
        raw = encode(live_notice("succeeded")) + b" " * size
    assert len(raw) > MAX_BODY_BYTES
    assert_problem(await notify(http, raw, signed(raw)), 413, "body")
    assert await live_state(client) == before


channel_names = unknown_names.filter(
    lambda s: s not in {m.value for m in PaymentMethod} and "/" not in s and s not in (".", "..")
)


@EXAMPLES
@given(channel_names, st.sampled_from(["succeeded", "failed", "under_review"]))
async def test_unknown_channels_are_404_naming_the_channel(
    http: httpx.AsyncClient, client: Client, channel: str, status: str
) -> None:
    tally("ingress: unknown channels")
    before = await live_state(client)
    raw = encode(live_notice(status))
    response = await http.post(
        f"/v1/payments/notify/{quote(channel, safe='')}", content=raw, headers=signed(raw)
    )
    assert_problem(response, 404, "channel")
    assert await live_state(client) == before


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
other_secrets = st.one_of(
    st.sampled_from([s for m, s in SECRETS.items() if m.value != LIVE_CHANNEL]),  # another channel
    st.text(min_size=1, max_size=30),
)


@st.composite
def wrongly_signed(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """A notice the live order would accept, with a missing, malformed or wrong signature."""
    raw = encode(live_notice(draw(st.sampled_from(["succeeded", "failed", "under_review"]))))
    kind = draw(
        st.sampled_from(["missing", "garbage", "random", "other_key", "tampered", "scheme"])
    )
    if kind == "missing":
        return raw, {"Content-Type": "application/json"}
    if kind == "garbage":
        header = draw(header_text)
    elif kind == "random":
        header = "sha256=" + draw(st.text("0123456789abcdef", min_size=64, max_size=64))
    elif kind == "other_key":
        header = sign(
            raw, draw(other_secrets.filter(lambda s: s != SECRETS[PaymentMethod(LIVE_CHANNEL)]))
        )
    elif kind == "tampered":  # signed, then a byte of the body changed (here: the amount)
        header = signed(raw)[HEADER]
        raw = raw.replace(str(LIVE.amount).encode(), str(LIVE.amount + Decimal("0.01")).encode())
    else:  # the right digest under another scheme name (the scheme's case and spaces don't count)
        scheme = draw(st.sampled_from(["md5", "sha1", "sha512", "", "sha-256", "hmac-sha256"]))
        header = f"{scheme}={signed(raw)[HEADER].partition('=')[2]}"
    return raw, {HEADER: header, "Content-Type": "application/json"}


@EXAMPLES
@given(wrongly_signed())
async def test_valid_notices_without_a_valid_signature_are_401_and_not_delivered(
    http: httpx.AsyncClient, client: Client, case: tuple[bytes, dict[str, str]]
) -> None:
    tally("ingress: wrongly signed valid notices")
    raw, headers = case
    before = await live_state(client)
    assert_problem(await notify(http, raw, headers), 401, HEADER)
    assert await live_state(client) == before


# ------------------------------------------------------------------------------------ orders
def with_unique_id(bad: Bad) -> Bad:
    """A fresh order id per case (unless the id is the culprit), so 'not started' is checkable."""
    if bad.field == "order_id" or "order_id" not in bad.data:
        return bad
    return Bad(bad.data | {"order_id": f"PROPS-{uuid.uuid4().hex}"}, bad.field)


@EXAMPLES
@given(bad_orders().map(with_unique_id))
async def test_bad_orders_are_422_naming_the_field_and_start_nothing(
    http: httpx.AsyncClient, client: Client, bad: Bad
) -> None:
    tally("ingress: bad orders")
    response = await http.post(
        "/v1/upgrades", content=encode(bad.data), headers=BACKEND | {"Content-Type": "application/json"}
    )  # fmt: skip
    assert_problem(response, 422, bad.field)
    await assert_never_started(client, bad.data.get("order_id"))


# ------------------------------------------------------------------- resolutions and cancels
@EXAMPLES
@given(bad_resolutions())
async def test_bad_resolutions_are_422_naming_the_field_and_change_nothing(
    http: httpx.AsyncClient, client: Client, bad: Bad
) -> None:
    tally("ingress: bad resolutions")
    before = await live_state(client)
    response = await http.post(
        f"/v1/upgrades/{LIVE.order_id}/resolve", content=encode(bad.data),
        headers=OPERATOR | {"Content-Type": "application/json"},
    )  # fmt: skip
    assert_problem(response, 422, bad.field)
    assert await live_state(client) == before


@EXAMPLES
@given(bad_cancels())
async def test_bad_cancels_are_422_naming_the_field_and_change_nothing(
    http: httpx.AsyncClient, client: Client, bad: Bad
) -> None:
    tally("ingress: bad cancels")
    before = await live_state(client)
    response = await http.post(
        f"/v1/upgrades/{LIVE.order_id}/cancel", content=encode(bad.data),
        headers=BACKEND | {"Content-Type": "application/json"},
    )  # fmt: skip
    assert_problem(response, 422, bad.field)
    assert await live_state(client) == before
