"""Replay committed histories with today's workflow code: a non-deterministic change fails here.

The histories directly under `tests/histories/` were recorded from the end-to-end scenarios at
3600x (every scenario token: activation, escalation, compensation, operator decisions, cancel,
expiry); those under `tests/histories/time_skipping/` from the saga tests at time scale 1, where
every wait is a durable timer (SLA escalation, overdue payment continued-as-new until expiry,
cancel during a call and while propagating, duplicate notices, refusals then a decision); those
under `tests/histories/custody/` from the payment custody's tests (refunded after the grace,
claimed by a late order, claimed just before the refund, not charged, re-delivered).
and under `tests/histories/saga_safety/` from `tests/workflows/test_saga_safety.py`, the paths behind
the saga-safety patches (`workflows/patches.py`; `UPGRADE_RECORD_HISTORIES=1
UPGRADE_RECORD_HISTORIES_TO=saga_safety pytest tests/workflows/test_saga_safety.py`); those under
`tests/histories/eta_evidence/` from `tests/workflows/test_eta_evidence.py`, the path behind the
ETA's evidence (`patches.ETA_FROM_EVIDENCE`: the platform's apply latency read as activities;
`UPGRADE_RECORD_HISTORIES_TO=eta_evidence`).
Re-record them only on purpose, after a change that is meant to alter the saga's commands (and
that is deployed with `workflow.patched` for runs in flight): `make histories` for the first,
`UPGRADE_RECORD_HISTORIES=1 pytest tests/workflows/test_saga_timers.py` for the second.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from service.worker_setup import WORKFLOWS, workflow_runner

ROOT = Path(__file__).parent / "histories"
HISTORIES = sorted(ROOT.rglob("*.json"))
NAMES = [str(path.relative_to(ROOT).with_suffix("")) for path in HISTORIES]


def test_histories_are_committed() -> None:
    # Guard: an empty folder would make the replay check pass vacuously.
    assert len(HISTORIES) >= 8, "record them with `make histories`"
    assert any(path.parent != ROOT for path in HISTORIES), "the time-skipping ones are missing"


@pytest.mark.parametrize("path", HISTORIES, ids=NAMES)
async def test_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text("utf-8"))
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
