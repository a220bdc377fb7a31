"""Replay committed histories with today's workflow code: a non-deterministic change fails here.

The histories under `tests/histories/` were recorded from the end-to-end scenarios (every scenario
token: activation, escalation, compensation, operator decisions, cancel, expiry). Re-record them
only on purpose, with `make histories`, after a change that is meant to alter the saga's commands
(and that is deployed with `workflow.patched` for runs in flight).
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from service.worker_setup import WORKFLOWS, workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_committed() -> None:
    # Guard: an empty folder would make the replay check pass vacuously.
    assert len(HISTORIES) >= 8, "record them with `make histories`"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text("utf-8"))
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
