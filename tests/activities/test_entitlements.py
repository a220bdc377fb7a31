"""Entitlement activities against the real sandbox app, and the retry story under injected
faults: retryable errors, and no effect applied twice."""

from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import EntitlementActivities
from activities.http import PlatformClient
from domain.effects import Effect
from domain.errors import ErrorType
from domain.steps import (
    CacheInvalidationInput,
    EntitlementsInput,
)
from tests.activities.helpers import ledger

WF = "upgrade-ORD-1"


def entitlements_input(app_id: str = "app-1", key: str = f"{WF}:activate") -> EntitlementsInput:
    return EntitlementsInput(
        order_id="ORD-1",
        idempotency_key=key,
        account_id="acct-1",
        app_id=app_id,
        plan="premium",
        features=("api.cloud_recording",),
    )


async def test_activate_invalidate_deactivate(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    acts = EntitlementActivities(platform)
    active = await env.run(acts.activate_entitlements, entitlements_input())
    assert active.active == ("plan:premium", "api.cloud_recording")
    await env.run(
        acts.invalidate_console_cache,
        CacheInvalidationInput(
            order_id="ORD-1", idempotency_key=f"{WF}:cache", account_id="acct-1", app_id="app-1"
        ),
    )
    off = await env.run(acts.deactivate_entitlements, entitlements_input(key=f"{WF}:deactivate"))
    assert off.applied is True
    nothing = await env.run(
        acts.deactivate_entitlements, entitlements_input("app-2", key=f"{WF}:deactivate:2")
    )
    assert nothing.applied is False
    assert [f"{e['system']}/{e['action']}" for e in await ledger(platform)] == [
        Effect.ACTIVATE_ENTITLEMENTS,
        Effect.INVALIDATE_CONSOLE_CACHE,
        Effect.DEACTIVATE_ENTITLEMENTS,
    ]


async def test_injected_faults_are_retryable_and_never_apply_twice(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    await platform._http.put("/v1/sandbox/faults", json={"error_rate": 0.6, "latency_ms": 0})
    acts = EntitlementActivities(platform)
    errors: list[ApplicationError] = []
    for n in range(20):
        step = CacheInvalidationInput(
            order_id="ORD-1",
            idempotency_key=f"{WF}:cache:{n}",
            account_id="acct-1",
            app_id="app-1",
        )
        while True:  # what Temporal's retry policy does, minus the backoff
            try:
                await env.run(acts.invalidate_console_cache, step)
                break
            except ApplicationError as exc:
                errors.append(exc)
    assert errors
    assert {(e.type, e.non_retryable) for e in errors} == {
        (ErrorType.PLATFORM_UNAVAILABLE.value, False)
    }
    keys = [e["key"] for e in await ledger(platform)]
    assert sorted(keys) == sorted(f"{WF}:cache:{n}" for n in range(20))


async def test_flaky_app_503s_are_absorbed_and_apply_once(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    acts = EntitlementActivities(platform)
    answered = 0
    errors: list[ApplicationError] = []
    for n in range(30):
        try:
            await env.run(
                acts.activate_entitlements, entitlements_input("app-flaky", key=f"{WF}:act:{n}")
            )
            answered += 1
        except ApplicationError as exc:
            errors.append(exc)
    # 30% of calls answer 503; the client's quick retries absorb nearly all of them, and any
    # that surface are retryable.
    assert answered >= 25
    assert {e.type for e in errors} <= {ErrorType.PLATFORM_UNAVAILABLE.value}
    # However many attempts got through, the order's grant was activated exactly once.
    assert [f"{e['system']}/{e['action']}" for e in await ledger(platform)] == [
        Effect.ACTIVATE_ENTITLEMENTS
    ]
