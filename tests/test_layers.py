"""The layers of the code base, held: every import of every module (read with `ast`, so imports
inside functions and under `TYPE_CHECKING` count too) goes down the layer order, never up or
sideways, and no two packages import each other, directly or through others.

The order (the README's layout section says the same):

    domain <- channels <- activities <- workflows <- service <- client <- {ingress, audit} <- cli
        <- {devstack, bench, tools} <- the entry points (starter.py, worker.py)
    sandbox <- domain, channels only (a stand-in for the real platform, beside the saga)

A package may import any package of a lower layer, never one of its own layer. Tests may import
anything and are not checked.
"""

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_CODE = {"tests", ".venv", ".data", "docs", "deploy"}

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"domain"}),
    frozenset({"channels"}),
    frozenset({"activities"}),
    frozenset({"workflows"}),
    frozenset({"service"}),
    frozenset({"client"}),
    frozenset({"ingress", "audit"}),
    frozenset({"cli"}),
    frozenset({"devstack", "bench", "tools"}),
    frozenset({"starter", "worker"}),
)
# Beside the layers: what the package may import, and who may import it (the programs that run a
# platform for the saga to call).
BESIDE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # The sandbox plays the payment channels too: it signs their notifications with `channels`.
    "sandbox": (frozenset({"domain", "channels"}), frozenset({"bench", "devstack", "tools"})),
}

RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
PACKAGES = set(RANK) | set(BESIDE)


def package_of(module: str) -> str:
    return module.partition(".")[0]


def allowed(importer: str, imported: str) -> bool:
    """May a module of package `importer` import module `imported`?"""
    target = package_of(imported)
    if target == importer:
        return True
    if importer in BESIDE:
        return target in BESIDE[importer][0]
    if target in BESIDE:
        return importer in BESIDE[target][1]
    return RANK[target] < RANK[importer]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The modules of ours that `path` imports, with their full dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the importing package
                found.add(module_name(path).partition(".")[0])
            elif node.module is not None:
                # `from client import upgrades` imports the module `client.upgrades`.
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
                found.add(node.module)
    return {name for name in found if package_of(name) in PACKAGES}


def import_graph() -> dict[str, set[str]]:
    """Every module of ours (tests aside) and the modules of ours it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if path.relative_to(ROOT).parts[0] in NOT_CODE:
            continue
        graph[module_name(path)] = imports_of(path)
    return graph


def _normalise(imported: str, modules: Iterable[str]) -> str:
    """`from service.settings import Settings` names `service.settings.Settings`: the module is
    the longest prefix that is one."""
    known = set(modules)
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return imported


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    """One line per import that breaks the layer order, or per package that has no layer."""
    found = []
    for module, imported in sorted(graph.items()):
        importer = package_of(module)
        if importer not in PACKAGES:
            found.append(f"{module}: package {importer!r} has no layer (add it to LAYERS)")
            continue
        for target in sorted({_normalise(name, graph) for name in imported}):
            if not allowed(importer, target):
                found.append(f"{module} imports {target}")
    return found


def package_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Cycles between packages (a package importing itself aside), each as the packages in order."""
    edges: dict[str, set[str]] = {}
    for module, imported in graph.items():
        source = package_of(module)
        edges.setdefault(source, set()).update(
            package_of(name) for name in imported if package_of(name) != source
        )
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycles.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for target in sorted(edges.get(node, ())):
            visit(target, [*path, node])
        done.add(node)

    for start in sorted(edges):
        visit(start, [])
    return cycles


def test_every_import_goes_down_the_layers() -> None:
    graph = import_graph()
    assert {package_of(m) for m in graph} >= {"domain", "workflows", "service", "sandbox"}
    assert violations(graph) == []


def test_no_two_packages_import_each_other() -> None:
    assert package_cycles(import_graph()) == []


@pytest.mark.parametrize(
    ("module", "imported", "why"),
    [
        ("domain.models", "service.settings", "up"),
        ("client.upgrades", "cli.output", "up"),
        ("ingress.app", "audit.checks", "sideways"),
        ("activities.http", "service.settings", "up"),
        ("sandbox.app", "workflows.upgrade", "beside, beyond the domain"),
        ("workflows.upgrade", "sandbox.app", "into the sandbox from the saga"),
        ("sandbox.cli", "service.settings", "beside, into the service"),
        ("channels.alipay", "ingress.app", "up, from the channels' protocols"),
        ("toolbox.x", "domain.models", "a package without a layer"),
    ],
)
def test_the_check_fails_on_a_violation(module: str, imported: str, why: str) -> None:
    graph = {module: {imported}, imported: set()}
    assert violations(graph) != [], why


def test_the_check_allows_what_the_order_allows() -> None:
    graph = {
        "cli.commands": {"client.upgrades", "audit.checks", "service.temporal", "domain.models"},
        "bench.sandbox_server": {"sandbox.app", "service.process"},
        "sandbox.app": {"domain.models", "channels.alipay_signing"},
        "ingress.routes_payments": {"channels.alipay", "client.upgrades"},
        "starter": {"cli.main"},
    }
    assert violations(graph) == []


def test_the_check_finds_a_cycle_between_packages() -> None:
    graph = {
        "client.upgrades": {"cli.output"},
        "cli.output": {"audit.facts"},
        "audit.facts": {"client.ack_journal"},
        "client.ack_journal": set(),
    }
    assert package_cycles(graph) == [["audit", "client", "cli", "audit"]]
    assert package_cycles({"service.a": {"service.b"}, "service.b": {"service.a"}}) == []
