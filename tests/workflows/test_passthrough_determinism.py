"""The saga's helper modules run outside the sandbox (`service.worker_setup.WORKFLOW_HELPERS`,
imported once and shared by every run), so the checks the sandbox made at run time are made here
on their source and their module state:

- no clock, randomness or I/O of their own: imports only from deterministic modules, no
  `.now()` / `.today()` / `.utcnow()` other than `workflow.now()`, no `open`, `input`, `hash`, `id`;
- no state shared between runs: no `global`, no assignment into a module-level object, and every
  module-level value (and class attribute) is immutable.

A run's state lives in the `RunState` each run passes explicitly; that is what makes sharing the
modules safe, and what these rules keep true.
"""

import __future__

import ast
import dataclasses
import enum
import importlib
import inspect
import textwrap
import typing
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import FunctionType, MappingProxyType, ModuleType
from typing import Any

import pytest
from temporalio.common import RetryPolicy

from service.worker_setup import PASSTHROUGH_MODULES, WORKFLOW_HELPERS, WORKFLOWS

ALLOWED_IMPORT_ROOTS = {
    "__future__",
    "activities",
    "asyncio",
    "channels",
    "collections",
    "contextlib",
    "dataclasses",
    "datetime",
    "decimal",
    "domain",
    "enum",
    "pydantic",
    "temporalio",
    "types",
    "typing",
    "workflows",
}
CLOCK_READS = {"now", "utcnow", "today"}
FORBIDDEN_BUILTINS = {"open", "input", "hash", "id", "breakpoint", "exec", "eval"}
IMMUTABLE = (
    str,
    int,
    float,
    bool,
    bytes,
    type(None),
    timedelta,
    date,
    datetime,
    Decimal,
    enum.Enum,
)
# The SDK's RetryPolicy is a dataclass that is not frozen; no helper assigns into a module-level
# object (the source rule below), so a shared policy cannot be changed by one run for another.
SHARED_BY_RULE = (RetryPolicy,)


def source_violations(source: str) -> list[str]:
    """What in a module's source the sandbox would have refused or isolated."""
    tree = ast.parse(source)
    module_names = _module_level_names(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                if name and name.partition(".")[0] not in ALLOWED_IMPORT_ROOTS:
                    found.append(f"line {node.lineno}: imports {name}")
        elif isinstance(node, ast.Global):
            found.append(f"line {node.lineno}: global {', '.join(node.names)}")
        elif isinstance(node, ast.Call):
            func = node.func
            on_workflow = isinstance(func, ast.Attribute) and _is_name(func.value, "workflow")
            if isinstance(func, ast.Attribute) and func.attr in CLOCK_READS and not on_workflow:
                found.append(f"line {node.lineno}: reads the clock (.{func.attr}())")
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
                found.append(f"line {node.lineno}: calls {func.id}()")
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            found += _writes_into_module_objects(function, module_names)
    return found


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _module_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        for target in _assigned(node):
            names.add(target)
    return names


def _assigned(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            yield from (n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
        yield node.target.id
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.Import | ast.ImportFrom):
        yield from ((a.asname or a.name).partition(".")[0] for a in node.names)
    elif isinstance(node, ast.With | ast.If | ast.Try):
        for inner in node.body:
            yield from _assigned(inner)


def _writes_into_module_objects(
    function: ast.FunctionDef | ast.AsyncFunctionDef, module_names: set[str]
) -> list[str]:
    args = function.args
    local = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    local |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    local |= {
        n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    found = []
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            root = _root(target)
            if root is not None and root in module_names and root not in local:
                found.append(
                    f"line {target.lineno}: {function.name} writes into module-level {root}"
                )
    return found


def _root(target: ast.expr) -> str | None:
    """The module-level name an attribute or item assignment writes into, if any."""
    if not isinstance(target, ast.Attribute | ast.Subscript):
        return None
    node: ast.expr = target
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def state_violations(module: ModuleType) -> list[str]:
    """Module-level values and class attributes a run could change for the others."""
    found = []
    for name, value in vars(module).items():
        if name.startswith("__"):
            continue
        if inspect.isclass(value) and value.__module__ == module.__name__:
            for attr, member in vars(value).items():
                shared = not attr.startswith("__") and not _is_behaviour(member)
                if shared and not _immutable(member):
                    found.append(f"{name}.{attr}: {type(member).__name__} is mutable")
        elif not _is_behaviour(value) and not _immutable(value):
            found.append(f"{name}: {type(value).__name__} is mutable")
    return found


def _is_behaviour(value: Any) -> bool:
    return (
        isinstance(value, FunctionType | ModuleType | staticmethod | classmethod | property)
        or inspect.isclass(value)
        or inspect.isroutine(value)
        or isinstance(value, typing.TypeVar | __future__._Feature)
        or (
            type(value).__module__ in {"typing", "collections.abc", "types"}
            and not isinstance(value, MappingProxyType)
        )
    )


def _immutable(value: Any) -> bool:
    if isinstance(value, IMMUTABLE + SHARED_BY_RULE):
        return True
    if isinstance(value, tuple | frozenset):
        return all(_immutable(item) for item in value)
    if isinstance(value, MappingProxyType):
        return all(_immutable(k) and _immutable(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return bool(value.__dataclass_params__.frozen)  # type: ignore[attr-defined]
    return False


def test_the_helpers_are_passed_through_and_the_workflow_classes_are_not() -> None:
    package = Path(importlib.import_module("workflows").__path__[0])
    on_disk = {
        "workflows."
        + ".".join(p.relative_to(package).with_suffix("").parts).replace(".__init__", "")
        for p in package.rglob("*.py")
        if p.name != "__init__.py" or p.parent != package
    }
    defining = {w.__module__ for w in WORKFLOWS}
    assert set(WORKFLOW_HELPERS) == on_disk - defining
    assert set(WORKFLOW_HELPERS) <= set(PASSTHROUGH_MODULES)
    assert not defining & set(PASSTHROUGH_MODULES)


@pytest.mark.parametrize("name", WORKFLOW_HELPERS)
def test_a_helper_module_has_no_clock_io_or_shared_writes(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert source_violations(Path(module.__file__).read_text("utf-8")) == []


@pytest.mark.parametrize("name", WORKFLOW_HELPERS)
def test_a_helper_module_holds_no_mutable_state(name: str) -> None:
    assert state_violations(importlib.import_module(name)) == []


def test_the_source_rules_catch_what_the_sandbox_caught() -> None:
    bad = textwrap.dedent(
        """
        import random
        from datetime import datetime
        from temporalio import workflow
        SEEN = []
        COUNT = 0
        LIMITS = {}
        POLICY = workflow.RetryPolicy()

        def step(state):
            global COUNT
            SEEN.append(1)
            LIMITS["x"] = 1
            POLICY.maximum_attempts = 3
            state.x = datetime.now()
            fine = workflow.now()
            return hash("key"), open("/etc/hosts")
        """
    )
    found = "\n".join(source_violations(bad))
    for expected in (
        "imports random",
        "global COUNT",
        "reads the clock (.now())",
        "calls hash()",
        "calls open()",
        "step writes into module-level LIMITS",
        "step writes into module-level POLICY",
    ):
        assert expected in found
    assert "state" not in found and found.count("reads the clock") == 1


def test_the_state_rules_catch_what_the_sandbox_isolated() -> None:
    module = ModuleType("fake_helper")

    @dataclasses.dataclass
    class Loose:
        x: int = 0

    class Holder:
        cache: typing.ClassVar[dict[str, int]] = {}

    Holder.__module__ = module.__name__
    vars(module).update(
        {
            "SEEN": [],
            "TABLE": {"a": 1},
            "LOOSE": Loose(),
            "Holder": Holder,
            "FINE": MappingProxyType({"a": (1, 2)}),
            "DEADLINE": timedelta(hours=2),
        }
    )
    found = "\n".join(state_violations(module))
    for expected in ("SEEN: list", "TABLE: dict", "LOOSE: Loose", "Holder.cache: dict"):
        assert expected in found
    assert "FINE" not in found and "DEADLINE" not in found
