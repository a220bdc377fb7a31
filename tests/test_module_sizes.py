"""Modules stay small: one over ~300 lines says why at its top, in its docstring ("Over ~300
lines ...", "Longer than our usual ~300 lines ..."), so that the size is a decision a reviewer can
read, not a drift. Test modules are held to the same rule.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = {".venv", ".data", ".git", "node_modules"}
# "~300" leaves room: a module a few lines over the round number is not a second job.
LIMIT = 320
REASON = re.compile(r"(over|longer than)[^.]{0,40}~300 lines", re.IGNORECASE)


def python_modules() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED.intersection(path.relative_to(ROOT).parts)
    )


def too_long_without_reason(path: Path) -> bool:
    text = path.read_text("utf-8")
    if text.count("\n") <= LIMIT:
        return False
    docstring = ast.get_docstring(ast.parse(text)) or ""
    return REASON.search(docstring) is None


def test_every_long_module_says_why() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} ({path.read_text('utf-8').count(chr(10))} lines)"
        for path in python_modules()
        if too_long_without_reason(path)
    ]
    assert offenders == [], "over ~300 lines with no reason in the module docstring"


@pytest.mark.parametrize(
    ("docstring", "flagged"),
    [
        ("The thing.", True),
        ("The thing.\n\nOver ~300 lines on purpose: one table.", False),
        ("Longer than our usual ~300 lines on purpose: the steps in order.", False),
        ("Slightly over ~300 lines: one class.", False),
    ],
)
def test_the_rule_can_fail(tmp_path: Path, docstring: str, flagged: bool) -> None:
    module = tmp_path / "long.py"
    module.write_text(f'"""{docstring}"""\n' + "x = 1\n" * (LIMIT + 5), "utf-8")
    assert too_long_without_reason(module) is flagged
