"""A workflow change that breaks determinism is caught by replaying the committed histories.

`tests/test_replay.py` replays `tests/histories/` with today's workflow and expects success; it
cannot show that it would notice a bad change. Here the same histories are replayed with a
deliberately altered saga (billing before reconciliation: a different command at the same point
of history) and every history that reached reconciliation must fail with a NondeterminismError.
"""

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from domain.status import UpgradeStatus
from domain.upgrade_input import UpgradeInput
from workflows.upgrade import WORKFLOW_NAME, UpgradeActivation

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
# Histories whose runs were paid and went on to reconciliation (the others never get there).
RECONCILED = ["alipay-plan", "capability", "nocap", "lag", "flaky", "pushed"]


@workflow.defn(name=WORKFLOW_NAME)
class BillingFirst(UpgradeActivation):
    """The saga with two forward steps swapped: what a careless refactoring could do."""

    @workflow.run
    async def run(self, input: UpgradeInput) -> UpgradeStatus:
        return await super().run(input)

    async def _forward(self) -> None:
        await self._await_payment()
        await self._update_billing()
        await self._reconcile()
        await self._propagate()
        await self._activate()
        await self._notify_active()


def _replayer(workflow_class: type) -> Replayer:
    # Unsandboxed: the altered class lives in a test module the sandbox would re-import.
    return Replayer(
        workflows=[workflow_class],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


@pytest.mark.parametrize("name", RECONCILED)
async def test_an_altered_saga_fails_replay_with_nondeterminism(name: str) -> None:
    path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(name, path.read_text("utf-8"))
    # Control: the committed saga replays this history cleanly with the same runner.
    control = await _replayer(UpgradeActivation).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert control.replay_failure is None, control.replay_failure
    altered = await _replayer(BillingFirst).replay_workflow(history, raise_on_replay_failure=False)
    assert isinstance(altered.replay_failure, workflow.NondeterminismError), (
        f"{name}: the altered saga replayed without a nondeterminism error: "
        f"{altered.replay_failure!r}"
    )
