"""`starter.py` as a backend script runs it: exit 2 with one line naming the field on invalid
input (before anything reaches Temporal), exit 1 when Temporal cannot be reached."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from client import upgrades

ROOT = Path(__file__).resolve().parents[2]
ORDER = ["--order-id", "CLI-1", "--account-id", "a1", "--app-id", "p1", "--from-plan", "basic",
         "--to-plan", "premium", "--payment-method", "alipay", "--transaction-id", "t1"]  # fmt: skip


def run(*args: str, address: str = "127.0.0.1:1") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TEMPORAL_ADDRESS=address, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "starter.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip


def with_flag(flag: str, value: str) -> list[str]:
    args = list(ORDER)
    args[args.index(flag) + 1] = value
    return args


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["start", "--order-id", "CLI-1"], "account_id"),
        (["start", *with_flag("--to-plan", "basic"), "--feature", "nope"], "features"),
        (["start", *with_flag("--from-plan", "premium"), "--to-plan", "basic"], "to_plan"),
        (["start", *with_flag("--order-id", "bad id!")], "order_id"),
        (["start", *with_flag("--payment-method", "paypal")], "payment_method"),
        (["start", *ORDER, "--amount", "-5"], "amount"),
        (["start", *ORDER, "--amount", "1.001"], "amount"),
        (["start", *ORDER, "--feature", "video.hd_720p", "--feature", "video.hd_720p"], "features"),
        (["start", "--order-file", "/nonexistent.json"], "order_file"),
        (["status", "x y"], "order_id"),
        (["resolve", "O1", "--action", "maybe"], "action"),
        (["resolve", "O1", "--action", "approve", "--attention-id", "not an id"], "attention_id"),
        (["confirm-payment", "O1", "--transaction-id", "t", "--amount", "abc"], "amount"),
        (
            ["confirm-payment", "O1", "--transaction-id", "t", "--amount", "1", "--status", "paid"],
            "status",
        ),
        (["cancel", "O1", "--reason", "x" * 600], "reason"),
        (["launch"], "command"),
    ],
)
def test_invalid_input_exits_2_with_one_line_naming_the_field(args: list[str], field: str) -> None:
    # The address is closed: reaching Temporal at all would be exit 1, not 2.
    result = run(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], lines
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args", [["status", "O1"], ["list"], ["cancel", "O1"], ["start", *ORDER]], ids=str
)
def test_unreachable_temporal_exits_1_with_one_clear_line(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert result.stderr.startswith("starter.py: cannot reach Temporal at 127.0.0.1:1")
    assert len(result.stderr.strip().splitlines()) == 1


async def test_a_refused_start_creates_nothing(dev_env: WorkflowEnvironment) -> None:
    address = dev_env.client.service_client.config.target_host
    result = run("start", *with_flag("--from-plan", "enterprise"), address=address)
    assert result.returncode == 2
    with pytest.raises(upgrades.UpgradeNotFound):
        await upgrades.upgrade_status(dev_env.client, "CLI-1")
    missing = run("status", "CLI-1", "--json", address=address)
    assert missing.returncode == 1 and "no upgrade for order 'CLI-1'" in missing.stderr
