"""`python -m bench eta`: how often the ETA is right, measured on real processes (issue 14).

For each condition (off-peak; under load: the sandbox's peak schedule always on and a crowded
config service, `sandbox.load`) a fresh dev server, sandbox and worker run a batch of upgrades
across payment methods and change kinds, arriving one after another, at a high time scale. Each
run keeps the ETA it gave when the payment was confirmed and when propagation started
(`UpgradeStatus.eta_at_payment`, `eta_at_propagation`: read off the run, not re-derived); the
static policy table's ETA at the same moments (`domain.eta.estimate_eta` at the start of the stage)
is the baseline. Coverage: the share of upgrades whose activation (the run's `finished_at`) fell
inside [earliest, latest]; width in policy seconds (wall seconds times the time scale).

Payments arrive by notification at once (the transaction carries `pay-never`, as in the main
bench): the ETAs measured start after the payment, and a corporate transfer's day of waiting would
only stretch the run. Boundary: processes and the batch; records and the report are `eta_report`.
"""

import asyncio
import itertools
import json
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client

from bench.processes import Processes
from bench.runner import _connect
from bench.worker_process import task_queue
from client import upgrades
from domain.eta import estimate_eta
from domain.models import PaymentMethod, PaymentNotice, UpgradeOrder, catalog_price
from domain.policy import resolve_policy
from domain.stages import Stage
from domain.status import Eta, UpgradeStatus

VARIANT = "REAL-http"
# One order of each change kind: (from plan, to plan, add-ons).
KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "plan": ("basic", "premium", ()),
    "advanced_permission": ("standard", "standard", ("api.cloud_recording",)),
    "capability": ("premium", "premium", ("ai.conversational_multimodal",)),
    "media_quality": ("basic", "basic", ("video.fhd_1080p",)),
}
CONDITIONS: dict[str, dict[str, str]] = {
    "offpeak": {},
    # Peak all day (twice as slow) and a config service that absorbs only 16 pushes in flight,
    # each one beyond them 1 % slower: a batch arriving every ~1.5 s applies ~3x slower.
    "load": {
        "UPGRADE_SANDBOX_PEAK_HOURS": "0-24",
        "UPGRADE_SANDBOX_PEAK_FACTOR": "2",
        "UPGRADE_SANDBOX_FREE_PUSHES": "16",
        "UPGRADE_SANDBOX_LOAD_PER_PUSH": "0.01",
    },
}
MOMENTS = ("payment", "propagation")


@dataclass(frozen=True)
class EtaProfile:
    name: str
    time_scale: float
    # Every payment method x every change kind, or one method per kind (the tiny run).
    all_methods: bool
    arrival_gap_s: float
    # The batch repeated this many times, one after another (each round's orders their own): 95 %
    # of 16 upgrades is all 16, so one round cannot tell 94 % from 100 %.
    rounds: int = 1


# 60x: the worker's own latency (a second or two on a busy machine between the last region and
# `active`) is a minute or two of policy time, inside the stages' windows; at 600x it would be
# ten or twenty minutes and the figures would measure the machine, not the ETA. In-flight window
# (30 min) at 60x: 30 s, so a batch arriving every 3 s keeps ~80 pushes in flight.
PROFILES = {
    "full": EtaProfile("full", time_scale=60.0, all_methods=True, arrival_gap_s=3.0, rounds=3),
    "tiny": EtaProfile("tiny", time_scale=600.0, all_methods=False, arrival_gap_s=0.2),
}


@dataclass(frozen=True)
class Sample:
    """One upgrade: when it activated and the intervals it was given."""

    order_id: str
    kind: str
    method: str
    activated_at: datetime
    given: dict[str, Eta]  # "<moment>" (the run's) and "<moment>-static" (the policy table's)


@dataclass
class EtaResult:
    profile: EtaProfile
    samples: dict[str, list[Sample]]  # by condition
    failed: dict[str, list[str]]
    duration_s: float


def orders(profile: EtaProfile, condition: str) -> list[UpgradeOrder]:
    methods = list(PaymentMethod)
    # Kinds alternate in the arrivals, so the load is spread over every kind.
    if profile.all_methods:
        pairs = [(method, kind) for method in methods for kind in KINDS]
    else:
        pairs = [(methods[i % len(methods)], kind) for i, kind in enumerate(KINDS)]
    batch: list[UpgradeOrder] = []
    for round_no, (method, kind) in itertools.product(range(profile.rounds), pairs):
        from_plan, to_plan, features = KINDS[kind]
        suffix = f"{condition}-{method.value}-{kind}".replace("_", "")
        suffix += f"-r{round_no + 1}" if profile.rounds > 1 else ""
        batch.append(
            UpgradeOrder(
                order_id=f"ETA-{suffix}",
                account_id=f"acct-eta-{suffix}",
                app_id=f"app-eta-{suffix}",
                from_plan=from_plan,
                to_plan=to_plan,
                features=features,
                payment_method=method,
                transaction_id=f"txn-{suffix}-pay-never",  # <= 64 characters
                amount=catalog_price(from_plan, to_plan, features),
            )
        )
    return batch


def static_eta(order: UpgradeOrder, status: UpgradeStatus, stage: Stage, scale: float) -> Eta:
    """The policy table's ETA at the start of `stage` (what the ETA was before the evidence)."""
    started = next(r.started_at for r in status.stages if r.stage is stage)
    policy = resolve_policy(order, status.started_at, scale)
    return estimate_eta(policy, order.payment_method, stage, started, started)


async def _one(client: Client, order: UpgradeOrder, scale: float) -> Sample:
    await upgrades.start_upgrade(
        client, order, task_queue=task_queue(VARIANT), time_scale=scale, now=datetime.now(UTC)
    )
    notice = PaymentNotice(
        order_id=order.order_id, transaction_id=order.transaction_id, amount=order.amount
    )
    await upgrades.confirm_payment(client, notice)
    final = await upgrades.wait_result(client, order.order_id)
    if final.stage is not Stage.ACTIVE or final.finished_at is None:
        raise RuntimeError(f"{order.order_id} ended {final.stage}: {final.reason}")
    if final.eta_at_payment is None or final.eta_at_propagation is None:
        raise RuntimeError(f"{order.order_id}: the run kept no ETA (a worker before issue 14?)")
    given = {
        "payment": final.eta_at_payment,
        "propagation": final.eta_at_propagation,
        "payment-static": static_eta(order, final, Stage.RECONCILING, scale),
        "propagation-static": static_eta(order, final, Stage.PROPAGATING, scale),
    }
    kind = order.change_kinds[0].value
    return Sample(order.order_id, kind, order.payment_method, final.finished_at, given)


async def _batch(
    client: Client, profile: EtaProfile, condition: str
) -> tuple[list[Sample], list[str]]:
    tasks: list[asyncio.Task[Sample]] = []
    for order in orders(profile, condition):
        tasks.append(asyncio.create_task(_one(client, order, profile.time_scale)))
        await asyncio.sleep(profile.arrival_gap_s)
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    samples = [o for o in outcomes if isinstance(o, Sample)]
    failed = [str(o) for o in outcomes if isinstance(o, BaseException)]
    return samples, failed


async def run_eta_bench(
    profile: EtaProfile, run_dir: Path, say: Callable[[str], None]
) -> EtaResult:
    started = time.monotonic()
    shutil.rmtree(run_dir, ignore_errors=True)
    samples: dict[str, list[Sample]] = {}
    failed: dict[str, list[str]] = {}
    for condition, load in CONDITIONS.items():
        say(f"eta: {condition}: starting the dev server, the sandbox and a worker")
        with Processes(run_dir / condition) as processes:
            _, address = processes.dev_server(run_dir / condition / "temporal.db")
            _, url = processes.loaded_sandbox("sandbox", profile.time_scale, load)
            client = await _connect(address)
            processes.worker("worker", address, [VARIANT], url, 1000)
            say(f"eta: {condition}: {len(orders(profile, condition))} upgrades")
            samples[condition], failed[condition] = await _batch(client, profile, condition)
        say(f"eta: {condition}: {len(samples[condition])} active, {len(failed[condition])} failed")
    _dump(run_dir / "samples.json", samples, failed)
    return EtaResult(profile, samples, failed, time.monotonic() - started)


def _dump(path: Path, samples: dict[str, list[Sample]], failed: dict[str, list[str]]) -> None:
    """Every upgrade's activation and intervals, for reading a miss (not a report)."""
    rows = {
        condition: [
            {
                "order_id": s.order_id,
                "kind": s.kind,
                "method": s.method,
                "activated_at": s.activated_at.isoformat(),
                "given": {k: e.model_dump(mode="json") for k, e in s.given.items()},
            }
            for s in batch
        ]
        for condition, batch in samples.items()
    }
    path.write_text(json.dumps({"samples": rows, "failed": failed}, indent=1), "utf-8")


def measure(samples: list[Sample], given: str, scale: float) -> dict[str, float | int]:
    """Coverage (0..1) and median width (policy seconds) of the intervals named `given`."""
    inside = 0
    widths: list[float] = []
    for sample in samples:
        eta = sample.given[given]
        if eta.earliest is None or eta.latest is None:
            continue  # no interval given: counts as a miss
        widths.append((eta.latest - eta.earliest).total_seconds() * scale)
        inside += eta.earliest <= sample.activated_at <= eta.latest
    return {
        "upgrades": len(samples),
        "coverage": inside / len(samples) if samples else 0.0,
        "median_width_s": statistics.median(widths) if widths else 0.0,
    }
