"""How a worker for the upgrade saga is built: the workflows, the sandbox settings, the tuning.

Shared by `worker.py`, the tests and the benchmarks, so that all of them run the saga exactly as
production does; only the activities differ (real HTTP ones, or test doubles under the same names).
"""

import importlib.abc
import importlib.machinery
import pkgutil
import sys
import threading
from collections.abc import Callable, Sequence
from types import CodeType, ModuleType
from typing import Any, ClassVar

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.account_lease import AccountLease
from workflows.custody import PaymentCustody
from workflows.upgrade import UpgradeActivation

# The saga, the account lease it holds (one order of an account at a time) and the custody of
# payments it (or the ingress) cannot apply.
WORKFLOWS: list[type] = [UpgradeActivation, AccountLease, PaymentCustody]

WORKFLOWS_PACKAGE = UpgradeActivation.__module__.partition(".")[0]


def _workflow_helpers() -> tuple[str, ...]:
    """Every module of the `workflows` package except the package itself and the modules that
    define a workflow class."""
    package = sys.modules[WORKFLOWS_PACKAGE]
    defining = {workflow.__module__ for workflow in WORKFLOWS}
    found = pkgutil.walk_packages(package.__path__, f"{WORKFLOWS_PACKAGE}.")
    return tuple(sorted(m.name for m in found if m.name not in defining))


# The saga's helper modules (its stages, calls, compensation, visibility...): stateless functions
# over the `RunState` each run passes them, so they are imported once and shared by every run
# instead of being executed afresh in each run's sandbox, which cost ~80 KiB of Python objects per
# cached run (bench/NOTES.md, "Memory per cached run"). The price: the sandbox's runtime checks
# (`datetime.now()`, I/O, module state shared between runs) no longer see their code;
# `tests/workflows/test_passthrough_determinism.py` checks the same rules on their source and
# module state instead. The workflow classes' own modules stay sandboxed.
WORKFLOW_HELPERS = _workflow_helpers()

# Our own pure modules and pydantic are imported once and shared with every workflow run instead
# of being re-imported into each run's sandbox: they are deterministic, and re-importing pydantic
# models per run costs CPU and memory.
PASSTHROUGH_MODULES = (
    "domain",
    "activities",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    *WORKFLOW_HELPERS,
)


class _SharedCodeLoader(importlib.machinery.SourceFileLoader):
    """Loads a `workflows` module with the code object compiled the first time, once per process.

    The sandbox executes the workflow's modules afresh for every run: that is what isolates one
    run's module state from another's, and it stays so (every run still gets its own module,
    functions and class). What need not be per run is the compiled code, which is immutable:
    without this, every run unmarshalled (or, with no bytecode on disk, as under
    `PYTHONDONTWRITEBYTECODE=1`, compiled from source: ~13 ms of CPU) its own copy of it, and
    every cached run kept that copy (~120 KiB). Measured in bench/NOTES.md, "Tuning".
    A side effect that is welcome: a worker runs the code it started with, even if the files
    change under it.
    """

    _codes: ClassVar[dict[str, CodeType]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def get_code(self, fullname: str) -> CodeType:
        with self._lock:  # workflow tasks run on several threads
            code = self._codes.get(self.path)
            if code is None:
                code = super().get_code(fullname)
                if code is None:
                    raise ImportError(f"no code for {fullname}", name=fullname)
                self._codes[self.path] = code
            return code


class _SharedCodeFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] != WORKFLOWS_PACKAGE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _SharedCodeLoader(spec.loader.name, spec.loader.path)
        return spec


_FINDER = _SharedCodeFinder()


def share_workflow_code() -> None:
    """Install the shared-code loader for the `workflows` package (idempotent)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def workflow_runner() -> SandboxedWorkflowRunner:
    share_workflow_code()
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
