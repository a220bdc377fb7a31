"""The audit's facts and verdict as data: what was collected from the three sources, and the
report (violations, summary, notes) that `starter.py audit --json` prints.

Boundary: models only; the checks are `audit.checks`, the collection `audit.collect`.
"""

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.money_facts import MoneyFacts
from client.ack_journal import AckRecord
from domain.policy import OrderPolicy

ViolationKind = Literal[
    "duplicate_run",
    "missing_run",
    "lost_run",
    "stuck_run",
    "duplicate_effect",
    "effects_not_netted",
    "lost_notice",
    "task_failure",
    "platform_mismatch",
    # Money conservation (`audit.money`).
    "money_stranded",
    "money_refunded_twice",
    "money_refunded_applied",
    "money_unbalanced",
]
LOSS_KINDS = frozenset({"missing_run", "lost_run", "stuck_run", "lost_notice", "money_stranded"})
DUPLICATION_KINDS = frozenset({"duplicate_run", "duplicate_effect", "money_refunded_twice"})

DEFAULT_SLACK = timedelta(seconds=60)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class LedgerEntry(Frozen):
    """One applied effect, as the sandbox ledger reports it."""

    seq: int
    system: str
    action: str
    order_id: str
    key: str
    at: datetime
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def effect(self) -> str:
        return f"{self.system}/{self.action}"


class RunFacts(Frozen):
    """One Temporal run (execution) of the saga, from describe and its history."""

    order_id: str
    workflow_id: str
    run_id: str
    # The first run of its continue-as-new chain (its own id when it started the chain).
    chain_id: str
    # Temporal's execution status, lower case: running, completed, continued_as_new, failed, ...
    status: str
    started_at: datetime
    # When the chain started (a continuation carries its first run's start).
    chain_started_at: datetime
    closed_at: datetime | None = None
    # The saga's stage: the final status for a completed run, the search attribute otherwise.
    stage: str | None = None
    payment_status: str | None = None
    escalated: bool = False
    activation_deadline: datetime | None = None
    policy: OrderPolicy | None = None
    task_failures: tuple[str, ...] = ()
    # What it is doing right now (pending activities), for the reason line of a stuck run.
    pending: str = ""
    # The order it runs (from its input): what the cross-order checks fold.
    account_id: str | None = None
    app_id: str | None = None
    to_plan: str | None = None
    features: tuple[str, ...] = ()


class OrderOnPlatform(Frozen):
    """An order of an account or app the audit reads, and how it ended (None: not terminal, or
    no single run chain to tell)."""

    order_id: str
    account_id: str
    app_id: str
    to_plan: str
    features: tuple[str, ...] = ()
    final: str | None = None


class AccountState(Frozen):
    """`GET /v1/billing/accounts/{id}`, plus the base plan its first billing update reported."""

    account_id: str
    plan: str | None  # None: billing does not know the account
    features: tuple[str, ...] = ()
    version: int = 0
    base_plan: str | None = None


class ServedConfig(Frozen):
    version: int
    plan: str | None
    features: tuple[str, ...] = ()


class AppState(Frozen):
    """`GET /v1/entitlements/apps/{id}` and `.../regions/current`, plus the app's newest config
    version in the ledger (regions serving an older one have not settled)."""

    app_id: str
    entitled_plan: str | None
    entitled_features: tuple[str, ...] = ()
    regions: dict[str, ServedConfig] = Field(default_factory=dict)
    latest_version: int = 0


class PlatformFacts(Frozen):
    """What the platform holds for every account and app the audited orders touched, and every
    order known to touch them (also those outside a `--since` or prefix scope: a fold is over
    all of an account's orders)."""

    accounts: tuple[AccountState, ...] = ()
    apps: tuple[AppState, ...] = ()
    orders: tuple[OrderOnPlatform, ...] = ()


class AuditFacts(Frozen):
    now: datetime
    acks: tuple[AckRecord, ...] = ()
    ledger: tuple[LedgerEntry, ...] = ()
    runs: tuple[RunFacts, ...] = ()
    # Unreadable journal lines (a process killed mid-write), reported as a note.
    torn_acks: int = 0
    platform: PlatformFacts = Field(default_factory=PlatformFacts)
    # The channel's money per transaction; None: not collected (no money check).
    money: MoneyFacts | None = None


class Violation(Frozen):
    # An order id; for `platform_mismatch`, `account:<id>` or `app:<id>`.
    order_id: str
    kind: ViolationKind
    reason: str


class AuditSummary(Frozen):
    orders: int
    terminal: int
    lost: int
    duplicated: int
    stages: dict[str, int]


class AuditReport(Frozen):
    clean: bool
    summary: AuditSummary
    violations: tuple[Violation, ...]
    notes: tuple[str, ...]
