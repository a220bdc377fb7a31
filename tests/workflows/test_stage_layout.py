"""The one-hop rule: from a stage's name to its code. The saga's ordered stage table, the `Stage`
values and the modules under `workflows/stages/` agree; each stage module opens with its row of
the saga table; the test doubles register exactly the real activity names."""

import importlib
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from temporalio import activity

from activities import build_activities
from bench.instant_platform import instant_activities
from domain.custody import CustodyActivity
from domain.lease import LEASE_ACTIVITIES
from domain.stages import FORWARD_STAGES, TERMINAL_STAGES, Stage
from domain.steps import COMPENSATION, Activity
from service.worker_setup import share_workflow_code
from tests.support.fakes import FakePlatform
from workflows import compensation, decisions
from workflows.upgrade import FORWARD

STAGES_DIR = Path(__file__).parents[2] / "workflows" / "stages"
ROW = ("- activities:", "- compensation:", "- timeout / retry:", "- non-retryable errors:")


def _stage_modules() -> list[ModuleType]:
    return [importlib.import_module(f"workflows.stages.{path.stem}") for path in _files()]


def _files() -> list[Path]:
    return sorted(p for p in STAGES_DIR.glob("*.py") if p.name != "__init__.py")


def test_the_forward_table_runs_the_stages_in_their_order() -> None:
    working = [stage for stage in FORWARD_STAGES if not stage.is_terminal]
    assert [module.STAGE for module in FORWARD] == working


def test_each_stage_module_is_named_after_its_stage_value() -> None:
    assert {path.stem for path in _files()} == {module.STAGE.value for module in FORWARD}
    for module in FORWARD:
        assert isinstance(module, ModuleType)
        assert module.__name__ == f"workflows.stages.{module.STAGE.value}"


def test_every_stage_has_one_home() -> None:
    homes = [module.STAGE for module in FORWARD] + [decisions.STAGE, compensation.STAGE]
    assert len(homes) == len(set(homes))
    assert set(homes) | TERMINAL_STAGES == set(Stage)


@pytest.mark.parametrize("module", _stage_modules(), ids=lambda m: m.__name__.rpartition(".")[2])
def test_a_stage_module_opens_with_its_row_of_the_saga_table(module: ModuleType) -> None:
    doc = module.__doc__ or ""
    assert doc.startswith(f"Stage `{module.STAGE.value}`"), doc[:80]
    lines = [line for line in doc.splitlines() if line.startswith(ROW)]
    assert [line.partition(":")[0] + ":" for line in lines] == list(ROW)


def _row(module: ModuleType, field: str) -> str:
    """The text of one field of a stage module's row, continuation lines included."""
    doc = module.__doc__ or ""
    match = re.search(rf"^- {re.escape(field)}:(.*?)(?=^- |^$)", doc, re.M | re.S)
    assert match is not None, f"{module.__name__}: no `{field}`"
    return match.group(1)


def test_the_compensation_in_a_stage_row_is_the_one_paired_with_its_forward_step() -> None:
    for module in _stage_modules():
        done = set(re.findall(r"`([a-z_]+)`", _row(module, "activities")))
        undone = set(re.findall(r"`([a-z_]+)`", _row(module, "compensation")))
        assert undone == {COMPENSATION[a] for a in COMPENSATION if a in done}, module.__name__


def _names(functions: Sequence[Callable[..., Any]]) -> set[str | None]:
    return {activity._Definition.must_from_callable(fn).name for fn in functions}


def test_the_test_doubles_register_exactly_the_real_activity_names() -> None:
    real = _names(build_activities(object()))  # type: ignore[arg-type]
    assert real == set(Activity) | set(CustodyActivity) | LEASE_ACTIVITIES
    # The doubles stand in for the saga's platform; the custody runs on the real activities
    # against the sandbox in-process (`tests/workflows/test_custody.py`).
    saga = real - set(CustodyActivity)
    assert _names(FakePlatform().activities()) == saga
    assert _names(instant_activities()) == saga


def test_stage_modules_load_with_the_shared_workflow_code() -> None:
    # The worker compiles the `workflows` package once per process: the stages subpackage too.
    share_workflow_code()
    finder = next(f for f in sys.meta_path if type(f).__name__ == "_SharedCodeFinder")
    package = importlib.import_module("workflows.stages")
    for path in _files():
        spec = finder.find_spec(f"workflows.stages.{path.stem}", package.__path__)
        assert spec is not None and type(spec.loader).__name__ == "_SharedCodeLoader"
