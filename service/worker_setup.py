"""How a worker for the upgrade saga is built: the workflow, the sandbox settings, the tuning.

Shared by `worker.py`, the tests and the benchmarks, so that all of them run the saga exactly as
production does; only the activities differ (real HTTP ones, or test doubles under the same names).
"""

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.upgrade import UpgradeActivation

WORKFLOWS: list[type] = [UpgradeActivation]

# Our own pure modules and pydantic are imported once and shared with every workflow run instead
# of being re-imported into each run's sandbox: they are deterministic, and re-importing pydantic
# models per run costs CPU and memory.
PASSTHROUGH_MODULES = ("domain", "activities", "pydantic", "pydantic_core", "annotated_types")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )


def build_worker(
    client: Client,
    *,
    task_queue: str,
    activities: Sequence[Callable[..., Any]],
    **options: Any,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        workflow_runner=workflow_runner(),
        **options,
    )
