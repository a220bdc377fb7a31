"""`starter.py audit` input: a bad `--since` or `--slack` exits 2 naming it, before any source is
read; an unreachable sandbox exits 1 with one line naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import dev_server_env

ROOT = Path(__file__).resolve().parents[2]


def audit(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, TEMPORAL_ADDRESS="127.0.0.1:1", PYTHONPATH=str(ROOT)) | env
    return subprocess.run(
        [sys.executable, "starter.py", "audit", *args], cwd=ROOT, env=full_env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "field"),
    [(["--since", "yesterday"], "since"), (["--slack", "-5"], "slack"),
     (["--slack", "x"], "slack")],
)  # fmt: skip
def test_invalid_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    result = audit(*args)
    assert result.returncode == 2, result
    assert field in result.stderr and len(result.stderr.strip().splitlines()) == 1


async def test_an_unreachable_sandbox_exits_1_naming_it(tmp_path: Path) -> None:
    env = await dev_server_env()
    try:
        target = env.client.service_client.config.target_host
        result = audit(
            "--platform-url", "http://127.0.0.1:1", "--journal", str(tmp_path / "acks.jsonl"),
            TEMPORAL_ADDRESS=target,
        )  # fmt: skip
    finally:
        await env.shutdown()
    assert result.returncode == 1, result
    assert "sandbox ledger not reachable at http://127.0.0.1:1" in result.stderr
