"""The audit's checks across orders (`audit.consistency`): billing, entitlements and every
region's served config against the fold of the orders that ended active. Each check is shown
failing on the state issue 11's sequences leave behind, and clean on a consistent one."""

from typing import Any

from audit.checks import audit
from audit.consistency import check_platform
from audit.facts import (
    AccountState,
    AppState,
    AuditFacts,
    OrderOnPlatform,
    PlatformFacts,
    ServedConfig,
)
from audit.scope import scope_prefix
from domain.catalog import load_catalog
from tests.audit.test_checks import T0, run

REGIONS = load_catalog().regions
RECORDING = "api.cloud_recording"


def order(order_id: str, to_plan: str, *features: str, final: str | None = "active",
          account: str = "acct-1", app: str = "app-1") -> OrderOnPlatform:  # fmt: skip
    return OrderOnPlatform(order_id=order_id, account_id=account, app_id=app, to_plan=to_plan,
                           features=features, final=final)  # fmt: skip


# Sequence 1: A basic->premium cancelled, B premium->premium + recording active.
ORDERS = (order("A", "premium", final="cancelled"), order("B", "premium", RECORDING))


def billing(plan: str = "premium", *features: str, **kw: Any) -> AccountState:
    fields: dict[str, Any] = {"account_id": "acct-1", "plan": plan, "features": features,
                              "version": 3, "base_plan": "basic"} | kw  # fmt: skip
    return AccountState(**fields)


def served(version: int = 3, plan: str | None = "premium", *features: str) -> ServedConfig:
    return ServedConfig(version=version, plan=plan, features=features)


def app(
    plan: str | None = "premium",
    features: tuple[str, ...] = (RECORDING,),
    regions: dict[str, ServedConfig] | None = None,
    latest: int = 3,
) -> AppState:
    every = dict.fromkeys(REGIONS, served(3, "premium", RECORDING))
    return AppState(app_id="app-1", entitled_plan=plan, entitled_features=features,
                    regions=every | (regions or {}), latest_version=latest)  # fmt: skip


def platform(
    account: AccountState | None = None,
    application: AppState | None = None,
    orders: tuple[OrderOnPlatform, ...] = ORDERS,
) -> PlatformFacts:
    return PlatformFacts(
        accounts=(account or billing("premium", RECORDING),),
        apps=(application or app(),),
        orders=orders,
    )


def reasons(facts: PlatformFacts) -> list[str]:
    violations, _ = check_platform(facts)
    assert {v.kind for v in violations} <= {"platform_mismatch"}
    return [f"{v.order_id}: {v.reason}" for v in violations]


def test_a_consistent_platform_is_clean() -> None:
    assert reasons(platform()) == []
    report = audit(AuditFacts(now=T0, platform=platform()))
    assert report.clean, report.violations


def test_billing_wiped_out_by_another_orders_compensation() -> None:
    # What `revert_plan` of A's snapshot left before issue 11: basic, no recording.
    [found] = reasons(platform(account=billing("basic")))
    assert found.startswith("account:acct-1: billing has basic (version 3)")
    assert "(B) on base plan basic pay for premium + api.cloud_recording" in found


def test_billing_keeping_a_cancelled_orders_add_on() -> None:
    orders = (order("A", "premium", "video.uhd_4k", final="cancelled"), ORDERS[1])
    [found] = reasons(platform(account=billing("premium", RECORDING, "video.uhd_4k"),
                               orders=orders))  # fmt: skip
    assert "billing has premium + api.cloud_recording + video.uhd_4k" in found


def test_billing_above_the_base_with_nothing_active() -> None:
    orders = (order("A", "premium", final="failed"),)
    undone = app(None, (), dict.fromkeys(REGIONS, served(4, None)), latest=4)
    [found] = reasons(platform(account=billing("premium"), application=undone, orders=orders))
    assert "pay for basic" in found and "(none)" in found


def test_an_active_order_unknown_to_billing() -> None:
    [found] = reasons(platform(account=AccountState(account_id="acct-1", plan=None)))
    assert "billing has no such account, yet B ended active" in found


def test_entitlements_on_the_newest_grant_instead_of_the_highest_tier() -> None:
    orders = (order("A", "premium"), order("B", "basic", RECORDING))
    [found] = reasons(platform(application=app("basic", (RECORDING,)), orders=orders))
    assert found.startswith("app:app-1: entitlements grant basic + api.cloud_recording")
    assert "(A, B) pay for premium + api.cloud_recording" in found


def test_a_region_serving_an_undone_orders_config() -> None:
    stale = {"eu-west": served(3, "premium", RECORDING, "video.uhd_4k")}
    [found] = reasons(platform(application=app(regions=stale)))
    assert found.startswith("app:app-1: region(s) eu-west serve premium + api.cloud_recording "
                            "+ video.uhd_4k (v3)")  # fmt: skip


def test_a_region_that_lost_an_add_on() -> None:
    lost = {r: served(3, "premium") for r in ("cn-north", "us-west")}
    [found] = reasons(platform(application=app(regions=lost)))
    assert "region(s) cn-north, us-west serve premium (v3)" in found


def test_regions_still_propagating_are_not_compared_yet() -> None:
    behind = {"us-east": served(2, "premium", RECORDING, "video.uhd_4k")}
    violations, notes = check_platform(platform(application=app(regions=behind)))
    assert violations == []
    assert notes == ["app:app-1: regions not compared yet, us-east still below version 3 "
                     "(propagating)"]  # fmt: skip


def test_an_account_with_a_running_order_is_not_compared_yet() -> None:
    orders = (*ORDERS, order("C", "enterprise", final=None))
    violations, notes = check_platform(platform(account=billing("basic"), orders=orders))
    assert violations == []
    assert "account:acct-1: not compared yet, order(s) C not terminal" in notes


def test_a_scope_judges_the_accounts_its_orders_touched_against_all_their_orders() -> None:
    other = order("Z-1", "standard", account="acct-9", app="app-9")
    runs = (
        run(order_id="B", workflow_id="upgrade-B"),
        run(order_id="Z-1", workflow_id="upgrade-Z-1"),
    )
    facts = AuditFacts(now=T0, runs=runs, platform=platform(orders=(*ORDERS, other)))
    scoped = scope_prefix(facts, "B")
    assert [a.account_id for a in scoped.platform.accounts] == ["acct-1"]
    assert [a.app_id for a in scoped.platform.apps] == ["app-1"]
    # A (outside the prefix) still counts in the fold: its cancel is why premium is right.
    assert len(scoped.platform.orders) == 3
    assert reasons(scoped.platform) == []
