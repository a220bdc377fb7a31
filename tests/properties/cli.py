"""Running `starter.py` for property tests: in-process (fast, thousands of cases) with `connect`
replaced by a tripwire, or as a real subprocess against a closed Temporal address; and turning
generated messages into command lines and order files."""

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import starter
from cli import commands
from tests.properties.strategies import Bad

ROOT = Path(__file__).resolve().parents[2]
CLOSED_ADDRESS = "127.0.0.1:1"  # nothing listens: any attempt to reach Temporal exits 1

START_FLAGS = (
    "order_id", "account_id", "app_id", "from_plan", "to_plan",
    "payment_method", "transaction_id", "amount", "currency",
)  # fmt: skip


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str
    connects: int  # how many times the command tried to build a Temporal client


def run_in_process(argv: Sequence[str]) -> CliRun:
    """`starter.main(argv)` with stdout/stderr captured and `connect` made a tripwire."""
    attempts: list[object] = []

    async def tripwire(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise RuntimeError("connect attempted")  # the CLI reports this as exit 1

    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(commands, "connect", tripwire),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = starter.main(list(argv))
        except SystemExit as stop:  # argparse's usage errors, as run_and_exit maps them
            code = stop.code if isinstance(stop.code, int) else 1
    return CliRun(code, out.getvalue(), err.getvalue(), len(attempts))


def run_subprocess(argv: Sequence[str]) -> CliRun:
    env = dict(os.environ, TEMPORAL_ADDRESS=CLOSED_ADDRESS, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "starter.py", *argv], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    return CliRun(result.returncode, result.stdout, result.stderr, connects=-1)


def flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def start_argv(bad: Bad) -> list[str] | None:
    """`start` flags for a bad order, or None when the badness has no command-line spelling
    (a wrong JSON type, an unknown field, a missing amount, which the CLI fills in)."""
    data = bad.data
    if bad.field == "amount" and "amount" not in data:
        return None
    if any(k not in START_FLAGS and k != "features" for k in data):
        return None
    argv = ["start"]
    for field in START_FLAGS:
        if field not in data:
            continue
        value = data[field]
        if not isinstance(value, str) and not (field == "amount" and _is_decimal(value)):
            return None
        argv.append(f"{flag(field)}={value}")  # `=` so values starting with '-' stay values
    features = data.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        return None
    argv += [f"--feature={f}" for f in features]
    return argv


def _is_decimal(value: Any) -> bool:
    return type(value).__name__ == "Decimal"


def order_file_text(bad: Bad) -> str:
    return json.dumps(bad.data, default=str)


def names_field(line: str, field: str) -> bool:
    """The line names the field, as a field, a flag, or escaped (a generated unknown field)."""
    spellings = (field, flag(field), field.replace("_", "-"), repr(field)[1:-1])
    return any(spelling in line for spelling in spellings)


def has_nul(argv: Sequence[str]) -> bool:
    return any("\x00" in a for a in argv)
