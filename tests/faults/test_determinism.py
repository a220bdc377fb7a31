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

from workflows import upgrade
from workflows.stages import reconciling, updating_billing
from workflows.upgrade import UpgradeActivation

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
# Histories whose runs were paid and went on to reconciliation (the others never get there).
RECONCILED = ["alipay-plan", "capability", "nocap", "lag", "flaky", "pushed"]


def billing_first() -> tuple[object, ...]:
    """The saga's stage order with two forward stages swapped: what a careless change could do."""
    order = list(upgrade.FORWARD)
    i, j = order.index(reconciling), order.index(updating_billing)
    order[i], order[j] = order[j], order[i]
    return tuple(order)


def _replayer(workflow_class: type) -> Replayer:
    # Unsandboxed: the altered stage order is patched into the module the sandbox would re-import.
    return Replayer(
        workflows=[workflow_class],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


@pytest.mark.parametrize("name", RECONCILED)
async def test_an_altered_saga_fails_replay_with_nondeterminism(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(name, path.read_text("utf-8"))
    # Control: the committed saga replays this history cleanly with the same runner.
    control = await _replayer(UpgradeActivation).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert control.replay_failure is None, control.replay_failure
    monkeypatch.setattr(upgrade, "FORWARD", billing_first())
    altered = await _replayer(UpgradeActivation).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert isinstance(altered.replay_failure, workflow.NondeterminismError), (
        f"{name}: the altered saga replayed without a nondeterminism error: "
        f"{altered.replay_failure!r}"
    )
