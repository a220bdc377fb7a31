"""The audit's checks ACROSS orders: for every account and app the audited orders touched,
billing == the effective entitlements == what every region serves == the fold of the orders that
ended `active` (highest tier, union of add-ons; billing on top of the account's base plan).

Why another check besides netting each order: each order can net to zero on its own while one
order's compensation wipes out another's paid change (issue 11, sequence 1); only the systems'
end state, compared with what the active orders paid for, shows it.

The fold is recomputed here from the catalog, on purpose independently of the platform's own.
An account or app is judged only once every order known to touch it is terminal, and regions only
once each serves the app's newest version (propagation settled); otherwise a note says why not.

Boundary: pure, over `PlatformFacts`; `audit.collect` reads them, `audit.checks` reports.
"""

from collections.abc import Iterable

from audit.facts import AccountState, AppState, OrderOnPlatform, PlatformFacts, Violation
from domain.catalog import load_catalog
from domain.stages import Stage

State = tuple[str | None, frozenset[str]]


def fold(orders: Iterable[OrderOnPlatform], base: str | None = None) -> State:
    """Highest tier among the orders' plans (and `base`), union of their add-ons."""
    catalog = load_catalog()
    chosen = list(orders)
    plans = [o.to_plan for o in chosen] + ([base] if base else [])
    known = [p for p in plans if p in catalog.plans]
    plan = max(known, key=lambda name: catalog.plans[name].tier) if known else None
    return plan, frozenset(f for o in chosen for f in o.features)


def shown(state: State) -> str:
    plan, features = state
    return (plan or "no plan") + "".join(f" + {f}" for f in sorted(features))


def _who(orders: list[OrderOnPlatform]) -> str:
    return ", ".join(o.order_id for o in orders) or "none"


class Consistency:
    """Violations and notes of the cross-order checks over one `PlatformFacts`."""

    def __init__(self, platform: PlatformFacts) -> None:
        self.platform = platform
        self.violations: list[Violation] = []
        self.notes: list[str] = []

    def run(self) -> "Consistency":
        for account in self.platform.accounts:
            self._account(account)
        for app in self.platform.apps:
            self._app(app)
        return self

    def _flag(self, subject: str, reason: str) -> None:
        self.violations.append(Violation(order_id=subject, kind="platform_mismatch", reason=reason))

    def _settled_orders(self, subject: str, orders: list[OrderOnPlatform]) -> bool:
        running = [o.order_id for o in orders if o.final is None]
        if running:
            self.notes.append(f"{subject}: not compared yet, order(s) {', '.join(running)} "
                              "not terminal")  # fmt: skip
        return not running

    def _account(self, account: AccountState) -> None:
        subject = f"account:{account.account_id}"
        orders = [o for o in self.platform.orders if o.account_id == account.account_id]
        if not self._settled_orders(subject, orders):
            return
        active = [o for o in orders if o.final == Stage.ACTIVE]
        if account.plan is None:
            if active:
                self._flag(subject, f"billing has no such account, yet {_who(active)} ended "
                           "active")  # fmt: skip
            return
        # No billing update ever: nothing reported a base plan, and nothing may be live.
        base = account.base_plan or account.plan
        expected = fold(active, base)
        billed: State = (account.plan, frozenset(account.features))
        if billed != expected:
            self._flag(subject, f"billing has {shown(billed)} (version {account.version}), but "
                       f"the orders that ended active ({_who(active)}) on base plan {base} pay "
                       f"for {shown(expected)}")  # fmt: skip

    def _app(self, app: AppState) -> None:
        subject = f"app:{app.app_id}"
        orders = [o for o in self.platform.orders if o.app_id == app.app_id]
        if not self._settled_orders(subject, orders):
            return
        active = [o for o in orders if o.final == Stage.ACTIVE]
        expected = fold(active)
        why = f"the orders that ended active ({_who(active)}) pay for {shown(expected)}"
        entitled: State = (app.entitled_plan, frozenset(app.entitled_features))
        if entitled != expected:
            self._flag(subject, f"entitlements grant {shown(entitled)}, but {why}")
        behind = sorted(r for r, s in app.regions.items() if s.version < app.latest_version)
        if behind:
            self.notes.append(f"{subject}: regions not compared yet, {', '.join(behind)} still "
                              f"below version {app.latest_version} (propagating)")  # fmt: skip
            return
        wrong: dict[str, list[str]] = {}
        for region, served in sorted(app.regions.items()):
            state: State = (served.plan, frozenset(served.features))
            if state != expected:
                wrong.setdefault(f"{shown(state)} (v{served.version})", []).append(region)
        for what, regions in wrong.items():
            self._flag(subject, f"region(s) {', '.join(regions)} serve {what}, but {why}")


def check_platform(platform: PlatformFacts) -> tuple[list[Violation], list[str]]:
    found = Consistency(platform).run()
    return found.violations, found.notes
