"""`PlatformClient` and the contract mapping, against `httpx.MockTransport`: which answers
become which Temporal errors, what is sent, and what is deliberately left to Temporal's retry."""

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities import build_activities, create_platform_client
from activities.contract import path
from activities.http import QUICK_RETRIES
from domain.errors import ErrorType
from domain.models import amount_text
from service.settings import Settings
from tests.activities.helpers import mock_client


def answer(status: int, body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def error(kind: str, message: str = "no", field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "message": message}
    if field:
        body["field"] = field
    return {"error": body}


async def raised(response: httpx.Response) -> ApplicationError:
    async with mock_client(lambda _: response) as client:
        with pytest.raises(ApplicationError) as caught:
            await client.post("/v1/x", {"a": 1}, "key-1")
    return caught.value


@pytest.mark.parametrize(
    "kind",
    [ErrorType.RECONCILIATION_MISMATCH, ErrorType.CAPACITY_REFUSED, ErrorType.PAYMENT_FAILED],
)
async def test_business_refusal_is_non_retryable_with_its_type(kind: ErrorType) -> None:
    exc = await raised(answer(409, error(kind.value, "account is on basic", "from_plan")))
    assert exc.type == kind.value
    assert exc.non_retryable is True
    assert "from_plan" in exc.message
    assert "account is on basic" in exc.message
    assert exc.details[0]["field"] == "from_plan"
    assert exc.details[0]["status"] == 409


async def test_a_409_of_an_unknown_type_is_a_contract_error() -> None:
    exc = await raised(answer(409, error("SomethingElse")))
    assert exc.type == ErrorType.PLATFORM_CONTRACT.value
    assert exc.non_retryable is True


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 422])
async def test_other_4xx_are_contract_errors(status: int) -> None:
    exc = await raised(answer(status, error("ValidationError", "bad", "region")))
    assert exc.type == ErrorType.PLATFORM_CONTRACT.value
    assert exc.non_retryable is True
    assert f"answered {status}" in exc.message
    assert "region" in exc.message


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_5xx_and_429_are_retryable(status: int) -> None:
    exc = await raised(answer(status, error("PlatformUnavailable")))
    assert exc.type == ErrorType.PLATFORM_UNAVAILABLE.value
    assert exc.non_retryable is False


async def test_retry_after_becomes_the_next_retry_delay_within_bounds() -> None:
    assert (await raised(answer(503, None, **{"Retry-After": "2"}))).next_retry_delay == (
        timedelta(seconds=2)
    )
    capped = await raised(answer(429, None, **{"Retry-After": "86400"}))
    assert capped.next_retry_delay == timedelta(minutes=5)
    assert (await raised(answer(503, None))).next_retry_delay is None


async def test_an_error_without_json_body_is_still_mapped() -> None:
    exc = await raised(httpx.Response(502, text="<html>bad gateway</html>"))
    assert exc.type == ErrorType.PLATFORM_UNAVAILABLE.value
    assert exc.non_retryable is False


async def test_a_success_without_json_is_a_contract_error() -> None:
    exc = await raised(httpx.Response(200, text="<html>login</html>"))
    assert exc.type == ErrorType.PLATFORM_CONTRACT.value
    assert exc.non_retryable is True


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_transport_errors_propagate_for_temporal_to_retry(failure: httpx.HTTPError) -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        raise failure

    async with mock_client(handler) as client:
        with pytest.raises(type(failure)):
            await client.get("/v1/x")


async def test_momentary_failures_are_retried_quickly_with_the_same_key() -> None:
    answers: Iterator[httpx.Response | Exception] = iter([
        answer(503, None), httpx.ConnectError("reset"), answer(502, None), answer(200, {"ok": True})
    ])  # fmt: skip
    keys: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("Idempotency-Key"))
        nxt = next(answers)
        if isinstance(nxt, Exception):
            raise nxt
        return nxt

    async with mock_client(handler) as client:
        assert await client.post("/v1/x", {"a": 1}, "key-1") == {"ok": True}
    assert keys == ["key-1"] * 4


async def test_a_lasting_outage_surfaces_after_the_quick_retries() -> None:
    calls = 0

    def handler(_: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return answer(503, None)

    async with mock_client(handler) as client:
        with pytest.raises(ApplicationError) as caught:
            await client.get("/v1/x")
    assert caught.value.type == ErrorType.PLATFORM_UNAVAILABLE.value
    assert calls == QUICK_RETRIES


async def test_post_sends_the_key_and_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(200, {"ok": True})

    async with mock_client(handler) as client:
        body = await client.post(
            "/v1/x", {"amount": amount_text(Decimal("600")), "features": ("a", "b")}, "wf:step"
        )
        await client.get("/v1/y", {"order_id": "ORD-1", "missing": None})
    assert body == {"ok": True}
    post, get = seen
    assert post.headers["Idempotency-Key"] == "wf:step"
    assert json.loads(post.content) == {"amount": "600.00", "features": ["a", "b"]}
    assert "Idempotency-Key" not in get.headers
    assert dict(get.url.params) == {"order_id": "ORD-1"}


async def test_post_refuses_to_send_without_a_key() -> None:
    async with mock_client(lambda _: answer(200, {})) as client:
        with pytest.raises(ValueError, match="idempotency key"):
            await client.post("/v1/x", {}, "")


def test_path_segments_are_escaped() -> None:
    assert path("/v1/orders/{}/reconcile", "ORD:1/x") == "/v1/orders/ORD%3A1%2Fx/reconcile"
    assert path("/v1/apps/{}/versions/{}", "app-1", 3) == "/v1/apps/app-1/versions/3"


async def test_create_platform_client_uses_the_settings() -> None:
    client = create_platform_client(
        Settings(platform_url="http://platform.example:9000", http_timeout_s=3.5)
    )
    try:
        http = client._http
        assert str(http.base_url) == "http://platform.example:9000"
        assert http.timeout.read == 3.5
    finally:
        await client.aclose()


def test_build_activities_registers_every_activity_once() -> None:
    from temporalio import activity

    class NoClient:
        pass

    bound = build_activities(NoClient())  # type: ignore[arg-type]
    names = [activity._Definition.must_from_callable(fn).name for fn in bound]
    assert names == [
        "confirm_payment_status",
        "refund_payment",
        "reconcile_order",
        "update_billing_plan",
        "revert_billing_plan",
        "allocate_resources",
        "check_allocation",
        "release_allocation",
        "generate_media_profile",
        "publish_config_version",
        "push_config",
        "check_propagation",
        "read_apply_latency",
        "rollback_config",
        "activate_entitlements",
        "deactivate_entitlements",
        "invalidate_console_cache",
        "notify_customer",
        "request_client_refresh",
        "escalate",
        "close_ticket",
        "read_transaction_claim",
        "refund_held_payment",
        "open_custody_ticket",
        "close_custody_ticket",
        "request_account_lease",
        "run_closed",
    ]
    # Registered under the name of its method: the workflow may reference either.
    assert [fn.__name__ for fn in bound] == names


def test_activity_modules_do_not_import_httpx() -> None:
    """The workflow imports the activity classes; they must not drag the HTTP stack along."""
    import subprocess
    import sys

    code = (
        "import sys; import activities.payments, activities.config, activities.tickets; "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
