"""Property-based: orders of one account, applied and undone in any order, always leave billing,
entitlements and every region's config on the fold of the orders still live (highest tier, union
of add-ons; billing on the base plan): compensations commute and net to zero (issue 11).

Runs the sandbox's systems directly on one store (no HTTP), each example on its own account/app.
"""

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import ChangeKind, load_catalog
from sandbox.schemas import (
    ActivateIn,
    BillingPlanIn,
    DeactivateIn,
    OrderRef,
    PublishIn,
    PushIn,
    RollbackIn,
)
from sandbox.store import Store, Tx
from sandbox.systems import billing, config, entitlements
from sandbox.systems.call import Call
from tests.properties.counts import tally
from tests.sandbox.helpers import START

CATALOG = load_catalog()
PLANS = sorted(CATALOG.plans, key=lambda p: CATALOG.plans[p].tier)
BASE = "basic"
_ids = itertools.count()

Order = tuple[str, tuple[str, ...]]
orders_of_one_account = st.lists(
    st.tuples(
        st.sampled_from(PLANS[1:]),  # basic or above: what an order from `basic` may reach
        st.lists(st.sampled_from(sorted(CATALOG.addons)), max_size=3, unique=True).map(tuple),
    ),
    min_size=1,
    max_size=5,
)


@st.composite
def undo_plans(draw: st.DrawFn) -> tuple[list[Order], list[int]]:
    """Orders, and the indices of those undone, in the order they are undone."""
    orders = draw(orders_of_one_account)
    undone = draw(st.permutations(range(len(orders))))
    return orders, undone[: draw(st.integers(0, len(orders)))]


def expected(
    orders: list[Order], live: list[int], base: str | None
) -> tuple[str | None, list[str]]:
    plans = [orders[i][0] for i in live] + ([base] if base else [])
    plan = max(plans, key=lambda p: CATALOG.plans[p].tier) if plans else None
    wanted = {f for i in live for f in orders[i][1]}
    return plan, [f for f in CATALOG.addons if f in wanted]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store(Path(tmp_path_factory.mktemp("props")) / "sandbox.sqlite3")
    yield opened
    opened.close()


def call(tx: Tx, minutes: float = 0) -> Call:
    return Call(tx=tx, now=START + timedelta(minutes=minutes), time_scale=1.0, catalog=CATALOG,
                key=f"k-{next(_ids)}")  # fmt: skip


@given(undo_plans())
def test_billing_ends_on_the_fold_of_the_live_orders(
    store: Store, plan: tuple[list[Order], list[int]]
) -> None:
    tally("platform: billing undos in any order")
    orders, undone = plan
    n = next(_ids)
    account, ids = f"acct-p{n}", [f"P{n}-{i}" for i in range(len(orders))]

    def work(tx: Tx) -> tuple[str, list[str], str, int]:
        for order_id, (to_plan, features) in zip(ids, orders, strict=True):
            body = BillingPlanIn(order_id=order_id, app_id="app-p", from_plan=BASE,
                                 to_plan=to_plan, features=list(features))  # fmt: skip
            billing.update_billing_plan(call(tx), account, body)
        for i in undone:
            assert billing.revert_billing_plan(call(tx), account, OrderRef(order_id=ids[i])).applied
        state = billing.read_account(call(tx), account)
        return state.plan, state.features, state.quota_rules, state.version

    plan_now, features, rules, version = store.run_sync(work)
    live = [i for i in range(len(orders)) if i not in undone]
    assert (plan_now, features) == expected(orders, live, BASE)
    assert rules == ("monthly:" + str(plan_now) + "".join(f"+{f}" for f in features))
    assert version == len(orders) + len(undone)


@given(undo_plans())
def test_entitlements_end_on_the_highest_tier_of_the_live_grants(
    store: Store, plan: tuple[list[Order], list[int]]
) -> None:
    tally("platform: entitlement undos in any order")
    orders, undone = plan
    n = next(_ids)
    app, ids = f"app-e{n}", [f"E{n}-{i}" for i in range(len(orders))]

    def work(tx: Tx) -> tuple[str | None, list[str]]:
        for order_id, (to_plan, features) in zip(ids, orders, strict=True):
            body = ActivateIn(order_id=order_id, account_id="acct-e", plan=to_plan,
                              features=list(features))  # fmt: skip
            entitlements.activate_entitlements(call(tx), app, body)
        for i in undone:
            body_off = DeactivateIn(order_id=ids[i], account_id="acct-e")
            assert entitlements.deactivate_entitlements(call(tx), app, body_off).applied
        state = entitlements.read_entitlements(call(tx), app)
        return state.plan, state.features

    live = [i for i in range(len(orders)) if i not in undone]
    assert store.run_sync(work) == expected(orders, live, None)


@given(undo_plans(), st.lists(st.integers(0, 4), max_size=6))
def test_every_region_ends_on_the_fold_and_never_goes_back(
    store: Store, plan: tuple[list[Order], list[int]], laggards: list[int]
) -> None:
    tally("platform: config rollbacks in any order, laggard re-pushes")
    orders, undone = plan
    n = next(_ids)
    app, ids = f"app-c{n}", [f"C{n}-{i}" for i in range(len(orders))]
    region = CATALOG.regions[0]

    def work(tx: Tx) -> tuple[list[int], dict[str, tuple[int, str | None, list[str]]]]:
        seen: list[int] = []
        versions = []
        for minute, (order_id, (to_plan, features)) in enumerate(zip(ids, orders, strict=True)):
            body = PublishIn(order_id=order_id, plan=to_plan, features=list(features),
                             change_kinds=[ChangeKind.PLAN])  # fmt: skip
            version = config.publish_config_version(call(tx, minute), app, body).version
            versions.append(version)
            for r in CATALOG.regions:
                config.push_config(call(tx, minute), app, version,
                                   PushIn(order_id=order_id, region=r))  # fmt: skip
            seen.append(config.read_regions(call(tx, minute * 30), app).regions[region].version)
        for step, i in enumerate(undone):
            rollback = RollbackIn(order_id=ids[i], version=versions[i], previous_version=0)
            assert config.rollback_config(call(tx, 200 + step), app, rollback).applied
            # A laggard re-push of an older, still live order's version never wins.
            for lag in laggards:
                k = lag % len(orders)
                if k not in undone[: step + 1]:
                    config.push_config(call(tx, 200 + step), app, versions[k],
                                       PushIn(order_id=ids[k], region=region))  # fmt: skip
            seen.append(config.read_regions(call(tx, 260 + step * 30), app).regions[region].version)
        current = config.read_regions(call(tx, 24 * 60), app).regions
        return seen, {r: (s.version, s.plan, s.features) for r, s in current.items()}

    seen, regions = store.run_sync(work)
    assert seen == sorted(seen), f"a region went back: {seen}"
    live = [i for i in range(len(orders)) if i not in undone]
    latest = len(orders) + len(undone)
    assert regions == dict.fromkeys(CATALOG.regions, (latest, *expected(orders, live, None)))
