"""The worker's shared workflow code: every sandboxed run still gets its own modules, functions
and class (isolation), built from one code object per module (CPU and memory per run)."""

import importlib
import importlib.util
import sys
from types import ModuleType

from service.worker_setup import share_workflow_code, workflow_runner


def _fresh(name: str) -> ModuleType:
    # What the sandbox's import does for each run (its sys.modules starts without the module):
    # ask the finders for a spec, make a new module object from it and execute it.
    package = importlib.import_module(name.rpartition(".")[0])
    spec = next(
        spec
        for finder in sys.meta_path
        if (spec := finder.find_spec(name, package.__path__)) is not None
    )
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_load_gets_its_own_module_built_from_the_same_code() -> None:
    share_workflow_code()
    first, second = _fresh("workflows.upgrade"), _fresh("workflows.upgrade")
    assert first is not second
    assert first.UpgradeActivation is not second.UpgradeActivation
    run_a, run_b = first.UpgradeActivation.run, second.UpgradeActivation.run
    assert run_a is not run_b
    assert run_a.__code__ is run_b.__code__


def test_modules_outside_the_workflows_package_load_as_usual() -> None:
    share_workflow_code()
    first, second = _fresh("bench.shape"), _fresh("bench.shape")
    assert first.blob.__code__ is not second.blob.__code__


def test_installing_it_twice_installs_one_finder() -> None:
    workflow_runner()
    workflow_runner()
    finders = [f for f in sys.meta_path if type(f).__name__ == "_SharedCodeFinder"]
    assert len(finders) == 1
