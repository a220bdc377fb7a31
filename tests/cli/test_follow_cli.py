"""`starter.py follow` as a process, against a dev-server run driven by fake activities: one line
per change without a terminal, exit 0 at the end; NDJSON with `--json`; exit 1 and 2 on errors."""

import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from client import upgrades
from domain.models import PaymentNotice, PaymentStatus
from domain.stages import FORWARD_STAGES, Stage
from tests.support.fakes import FakePlatform
from tests.support.saga_runs import fake_worker, make_order

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?P<order>\S+) (?P<stage>[a-z_]+)( |$)")


def env_for(address: str) -> dict[str, str]:
    return dict(os.environ, TEMPORAL_ADDRESS=address, PYTHONPATH=str(ROOT))


def run(*args: str, address: str = "127.0.0.1:1") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "starter.py", *args], cwd=ROOT, env=env_for(address),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def test_follow_prints_a_line_per_change_until_the_run_is_active(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    address = client.service_client.config.target_host
    fake = FakePlatform(payment_statuses=[PaymentStatus.PENDING])
    order = make_order(f"ORD-FOLLOW-{task_queue}")
    async with fake_worker(client, task_queue, fake):
        await upgrades.start_upgrade(client, order, task_queue=task_queue, time_scale=60)
        follower = await asyncio.create_subprocess_exec(
            sys.executable, "starter.py", "follow", order.order_id, "--interval", "0.2",
            cwd=ROOT, env=env_for(address),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert follower.stdout is not None
        first = (await asyncio.wait_for(follower.stdout.readline(), 60)).decode()
        # The payment is still pending: the follower has seen the run waiting for it.
        assert LINE.match(first) and f" {order.order_id} awaiting_payment " in first, first
        await upgrades.confirm_payment(
            client,
            PaymentNotice(
                order_id=order.order_id,
                transaction_id=order.transaction_id,
                amount=order.amount,
                currency=order.currency,
            ),
        )
        rest, err = await asyncio.wait_for(follower.communicate(), 120)
    assert follower.returncode == 0, err.decode()
    assert err.decode() == ""
    lines = [first.rstrip("\n"), *rest.decode().splitlines()]
    *changes, final = lines
    assert final.startswith(f"{order.order_id} ended active at "), lines
    stages = []
    for line in changes:
        match = LINE.match(line)
        assert match is not None and match["order"] == order.order_id, line
        stages.append(Stage(match["stage"]))
    assert stages[-1] is Stage.ACTIVE and "regions=8/8 applied" in changes[-1]
    # Forward only, one line per change: never the same line twice in a row.
    order_of = [FORWARD_STAGES.index(s) for s in stages]
    assert order_of == sorted(order_of)
    assert all(a != b for a, b in itertools.pairwise(changes))

    # The run has closed: `--json` reads its final status from the result, one NDJSON record.
    again = run("follow", order.order_id, "--json", address=address)
    assert again.returncode == 0, again.stderr
    records = [json.loads(line) for line in again.stdout.splitlines()]
    assert len(records) == 1 and records[0]["stage"] == "active"
    assert records[0]["order_id"] == order.order_id


async def test_follow_of_an_unknown_order_exits_1_with_one_line(
    dev_env: WorkflowEnvironment,
) -> None:
    address = dev_env.client.service_client.config.target_host
    result = run("follow", "NO-SUCH-ORDER", address=address)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "starter.py: no upgrade for order 'NO-SUCH-ORDER'"
    ]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["follow", "bad id!"], "order_id"),
        (["follow", "O1", "--interval", "0"], "interval"),
        (["follow", "O1", "--interval", "soon"], "interval"),
    ],
)
def test_follow_invalid_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    result = run(*args)  # the address is closed: reaching Temporal would be exit 1
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], lines


def test_follow_without_temporal_exits_1_with_one_line() -> None:
    result = run("follow", "O1")
    assert result.returncode == 1
    assert result.stderr.startswith("starter.py: cannot reach Temporal at 127.0.0.1:1")
    assert len(result.stderr.strip().splitlines()) == 1
