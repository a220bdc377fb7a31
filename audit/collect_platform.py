"""Gathers the facts of the cross-order checks (`audit.consistency`): for every account and app
the collected runs touched, the three read endpoints of the platform contract
(`docs/platform-api.md`), the base plan and newest config version from the ledger, and every
order known to touch them with how it ended.

Orders of those accounts and apps that only the ledger names (their runs fell outside `--since`)
are looked up in Temporal too: a fold is over all of an account's orders.

Boundary: I/O only (the sandbox over HTTP, Temporal through `audit.collect`'s helpers).
"""

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from audit.facts import (
    AccountState,
    AppState,
    LedgerEntry,
    OrderOnPlatform,
    PlatformFacts,
    RunFacts,
    ServedConfig,
)
from domain.effects import Effect

FindRuns = Callable[[str], Awaitable[list[RunFacts]]]


def final_stage(order_runs: Iterable[RunFacts]) -> str | None:
    """The stage the order ended in: its one chain's last run, completed; else None."""
    chains: dict[str, list[RunFacts]] = defaultdict(list)
    for run in order_runs:
        chains[run.chain_id].append(run)
    if len(chains) != 1:
        return None
    last = max(next(iter(chains.values())), key=lambda r: r.started_at)
    return last.stage if last.status == "completed" else None


def _touching(entries: Iterable[LedgerEntry], accounts: set[str], apps: set[str]) -> set[str]:
    return {
        e.order_id
        for e in entries
        if e.detail.get("account_id") in accounts or e.detail.get("app_id") in apps
    }


# A read answered 5xx / 429 or lost is tried again: these reads go through the platform's faults
# (a `flaky` app, an injected error rate), and one unlucky answer must not sink the audit.
READ_ATTEMPTS = 10
READ_BACKOFF_S = 0.05


async def _read(http: httpx.AsyncClient, path: str) -> Any:
    """The JSON of a read; None for 404 (the platform does not know it)."""
    for attempt in range(READ_ATTEMPTS):
        last = attempt == READ_ATTEMPTS - 1
        try:
            response = await http.get(path)
        except httpx.TransportError:
            if last:
                raise
        else:
            if response.status_code == 404:
                return None
            if (response.status_code < 500 and response.status_code != 429) or last:
                response.raise_for_status()
                return response.json()
        await asyncio.sleep(min(READ_BACKOFF_S * 2**attempt, 1.0))
    raise AssertionError("unreachable")


async def collect_platform(
    platform_url: str,
    runs: list[RunFacts],
    ledger: list[LedgerEntry],
    find_runs: FindRuns,
    timeout_s: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PlatformFacts:
    accounts = {r.account_id for r in runs if r.account_id}
    apps = {r.app_id for r in runs if r.app_id}
    by_order: dict[str, list[RunFacts]] = defaultdict(list)
    for run in runs:
        by_order[run.order_id].append(run)
    for order_id in sorted(_touching(ledger, accounts, apps) - set(by_order)):
        by_order[order_id] = await find_runs(order_id)
    orders = []
    for order_id, order_runs in sorted(by_order.items()):
        first = next((r for r in order_runs if r.account_id and r.app_id and r.to_plan), None)
        if first is None or first.account_id is None or first.app_id is None:
            continue
        if first.account_id in accounts or first.app_id in apps:
            orders.append(
                OrderOnPlatform(
                    order_id=order_id,
                    account_id=first.account_id,
                    app_id=first.app_id,
                    to_plan=first.to_plan or "",
                    features=first.features,
                    final=final_stage(order_runs),
                )
            )
    base: dict[str, str] = {}
    latest: dict[str, int] = defaultdict(int)
    for e in ledger:
        if e.effect == Effect.UPDATE_BILLING_PLAN and "base_plan" in e.detail:
            base.setdefault(str(e.detail.get("account_id")), str(e.detail["base_plan"]))
        for field in ("version", "new_version"):
            if e.effect in (Effect.PUBLISH_CONFIG_VERSION, Effect.ROLLBACK_CONFIG) and isinstance(
                e.detail.get(field), int
            ):
                app = str(e.detail.get("app_id"))
                latest[app] = max(latest[app], e.detail[field])
    async with httpx.AsyncClient(
        base_url=platform_url, timeout=timeout_s, transport=transport
    ) as http:
        account_states = []
        for account_id in sorted(accounts):
            billed = await _read(http, f"/v1/billing/accounts/{quote(account_id, safe='')}")
            account_states.append(
                AccountState(
                    account_id=account_id,
                    plan=billed["plan"] if billed else None,
                    features=tuple(billed["features"]) if billed else (),
                    version=billed["version"] if billed else 0,
                    base_plan=base.get(account_id),
                )
            )
        app_states = []
        for app_id in sorted(apps):
            entitled = await _read(http, f"/v1/entitlements/apps/{quote(app_id, safe='')}")
            current = await _read(http, f"/v1/config/apps/{quote(app_id, safe='')}/regions/current")
            regions = (current or {}).get("regions", {})
            app_states.append(
                AppState(
                    app_id=app_id,
                    entitled_plan=entitled["plan"] if entitled else None,
                    entitled_features=tuple(entitled["features"]) if entitled else (),
                    regions={r: ServedConfig.model_validate(s) for r, s in regions.items()},
                    latest_version=latest[app_id],
                )
            )
    return PlatformFacts(
        accounts=tuple(account_states), apps=tuple(app_states), orders=tuple(orders)
    )
