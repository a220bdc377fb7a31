"""`starter.py status-link ORDER_ID` as a backend script runs it: the page's URL (or `{"url"}` with
`--json`) whose token the ingress accepts for that order until it expires; exit 2 with one line
when the secret is missing or an argument is wrong, exit 1 for an order without an upgrade."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from temporalio.testing import WorkflowEnvironment

from client import upgrades
from ingress import links
from tests.support.saga_runs import make_order

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cli-test-status-secret"


def run(*args: str, address: str = "127.0.0.1:1", **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, TEMPORAL_ADDRESS=address, PYTHONPATH=str(ROOT))
    full.pop("UPGRADE_STATUS_LINK_SECRET", None)
    full.update(env)
    return subprocess.run(
        [sys.executable, "starter.py", "status-link", *args], cwd=ROOT, env=full,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and result.stdout == "", result
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["O1"], {}, "UPGRADE_STATUS_LINK_SECRET is not set"),
        (["O1"], {"UPGRADE_STATUS_LINK_SECRET": "  "}, "UPGRADE_STATUS_LINK_SECRET is not set"),
        (["O1", "--ttl", "0"], {"UPGRADE_STATUS_LINK_SECRET": SECRET}, "--ttl"),
        (["O1", "--ttl", "31d"], {"UPGRADE_STATUS_LINK_SECRET": SECRET}, "30 days"),
        (["O1", "--ttl", "soon"], {"UPGRADE_STATUS_LINK_SECRET": SECRET}, "not a duration"),
        (["bad id!"], {"UPGRADE_STATUS_LINK_SECRET": SECRET}, "order_id"),
        (
            ["O1", "--base-url", "status.example.com"],
            {"UPGRADE_STATUS_LINK_SECRET": SECRET},
            "base_url",
        ),
        (["O1"], {"UPGRADE_STATUS_LINK_SECRET": SECRET, "UPGRADE_STATUS_LINK_TTL_S": "-1"},
         "UPGRADE_STATUS_LINK_TTL_S"),
    ],
)  # fmt: skip
def test_bad_configuration_or_arguments_exit_2_with_one_line(
    args: list[str], env: dict[str, str], says: str
) -> None:
    # The address is closed: reaching Temporal at all would be exit 1, not 2.
    result = run(*args, **env)
    assert result.returncode == 2, result.stderr
    assert says in one_line(result)


async def test_the_url_opens_that_order_until_it_expires(dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    address = client.service_client.config.target_host
    order = make_order("ORD-LINK-1")
    # No worker needed: the command only asks the server whether the order has an upgrade.
    await upgrades.start_upgrade(client, order, task_queue="tq-status-link-nobody", time_scale=60)
    before = datetime.now(UTC)
    printed = run(order.order_id, address=address, UPGRADE_STATUS_LINK_SECRET=SECRET,
                  UPGRADE_PUBLIC_URL="https://status.example.com/")  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    url = printed.stdout.strip()
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "status.example.com",
        "/status/ORD-LINK-1",
    )
    [token] = parse_qs(parts.query)["token"]
    expires = links.check_token(SECRET, order.order_id, token, datetime.now(UTC))
    assert before + timedelta(hours=23) < expires <= datetime.now(UTC) + timedelta(hours=24)
    with pytest.raises(links.LinkError, match="does not match"):
        links.check_token(SECRET, "ORD-OTHER", token, datetime.now(UTC))

    as_json = run(order.order_id, "--json", "--ttl", "2h", "--base-url", "http://x:1",
                  address=address, UPGRADE_STATUS_LINK_SECRET=SECRET)  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["url"].startswith("http://x:1/status/ORD-LINK-1?token=")
    [token] = parse_qs(urlsplit(answer["url"]).query)["token"]
    expires = links.check_token(SECRET, order.order_id, token, datetime.now(UTC))
    assert expires <= datetime.now(UTC) + timedelta(hours=2)
    assert datetime.fromisoformat(answer["expires_at"]) == expires
    with pytest.raises(links.LinkError, match="expired"):
        links.check_token(SECRET, order.order_id, token, datetime.now(UTC) + timedelta(hours=2))


async def test_an_order_without_an_upgrade_exits_1(dev_env: WorkflowEnvironment) -> None:
    address = dev_env.client.service_client.config.target_host
    result = run("ORD-NO-SUCH", address=address, UPGRADE_STATUS_LINK_SECRET=SECRET)
    assert result.returncode == 1
    assert "no upgrade for order 'ORD-NO-SUCH'" in one_line(result)


def test_unreachable_temporal_exits_1_with_one_clear_line() -> None:
    result = run("O1", UPGRADE_STATUS_LINK_SECRET=SECRET)
    assert result.returncode == 1
    assert one_line(result).startswith("starter.py: cannot reach Temporal at 127.0.0.1:1")
