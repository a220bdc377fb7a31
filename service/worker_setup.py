"""How a worker for the upgrade saga is built: the workflow, the sandbox settings, the tuning.

Shared by `worker.py`, the tests and the benchmarks, so that all of them run the saga exactly as
production does; only the activities differ (real HTTP ones, or test doubles under the same names).
"""

import compileall
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from workflows.upgrade import UpgradeActivation

WORKFLOWS: list[type] = [UpgradeActivation]

# Our own pure modules and pydantic are imported once and shared with every workflow run instead
# of being re-imported into each run's sandbox: they are deterministic, and re-importing pydantic
# models per run costs CPU and memory.
PASSTHROUGH_MODULES = ("domain", "activities", "pydantic", "pydantic_core", "annotated_types")


def compile_workflow_bytecode() -> None:
    """Write the bytecode of the `workflows` package where it is missing or stale.

    The sandbox executes the workflow's modules afresh for every run (that is what isolates one
    run from another; our pure modules above are passed through instead). With no bytecode on disk
    (`PYTHONDONTWRITEBYTECODE=1`, as our image and this project's machines set, or a fresh
    checkout) every run compiled `workflows/*.py` from source again: about 13 ms of CPU per run,
    half of what replaying a whole run costs (bench/NOTES.md, "Tuning"). `py_compile` writes
    whatever that variable says; where the tree is read-only (the image, compiled when it is
    built) nothing is written and nothing fails.
    """
    package = Path(workflows.__file__).parent
    compileall.compile_dir(package, maxlevels=0, quiet=2)


def workflow_runner() -> SandboxedWorkflowRunner:
    compile_workflow_bytecode()
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
