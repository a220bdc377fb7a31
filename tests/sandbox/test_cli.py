"""`python -m sandbox`: argument errors, exit codes, and the client commands against a sandbox
served for real on a loopback port (uvicorn in a thread)."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from domain.effects import Effect
from sandbox.app import create_app
from sandbox.cli import EXIT_ERROR, EXIT_INVALID, EXIT_OK, format_ledger, main
from sandbox.store import Store
from service.ports import free_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    store = Store(tmp_path / "sandbox.sqlite3")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):  # readiness by polling health, not by sleeping a fixed time
        if server.started:
            break
        time.sleep(0.01)
    httpx.get(f"{url}/healthz").raise_for_status()
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_invalid_arguments_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["faults", "--error-rate", "1.5"])
    assert exited.value.code == EXIT_INVALID
    assert "--error-rate" in one_line(capsys.readouterr().err)

    with pytest.raises(SystemExit) as exited:
        main(["faults", "--latency-ms", "-1"])
    assert exited.value.code == EXIT_INVALID
    assert "--latency-ms" in one_line(capsys.readouterr().err)

    with pytest.raises(SystemExit) as exited:
        main(["approve-review"])
    assert exited.value.code == EXIT_INVALID
    assert "TRANSACTION_ID" in one_line(capsys.readouterr().err)


def test_bad_environment_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UPGRADE_TIME_SCALE", "0")
    assert main(["ledger"]) == EXIT_INVALID
    assert "UPGRADE_TIME_SCALE" in one_line(capsys.readouterr().err)


def test_unreachable_sandbox_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["ledger", "--url", url]) == EXIT_ERROR
    assert f"not reachable at {url}" in one_line(capsys.readouterr().err)


def test_client_commands(served: str, capsys: pytest.CaptureFixture[str]) -> None:
    # A transaction in review, and one effect in the ledger.
    httpx.get(
        f"{served}/v1/payments/transactions/tx-pay-review-1",
        params={"order_id": "ORD-1", "method": "alipay", "amount": "600.00"},
    ).raise_for_status()
    httpx.post(
        f"{served}/v1/tickets",
        json={"order_id": "ORD-1", "reason": "activation_sla", "severity": "high", "diagnosis": {}},
        headers={"Idempotency-Key": "t1"},
    ).raise_for_status()

    assert main(["approve-review", "tx-pay-review-1", "--url", served]) == EXIT_OK
    assert "approved" in capsys.readouterr().out
    assert main(["approve-review", "tx-unknown", "--url", served]) == EXIT_INVALID
    assert "TRANSACTION_ID" in one_line(capsys.readouterr().err)

    assert main(["faults", "--error-rate", "0.2", "--url", served]) == EXIT_OK
    assert main(["faults", "--latency-ms", "5", "--url", served]) == EXIT_OK
    assert capsys.readouterr().out.splitlines() == [
        "error_rate=0.2 latency_ms=0",
        "error_rate=0.2 latency_ms=5",
    ]
    assert main(["faults", "--error-rate", "0", "--latency-ms", "0", "--url", served]) == EXIT_OK
    capsys.readouterr()

    assert main(["ledger", "--order", "ORD-1", "--json", "--url", served]) == EXIT_OK
    entries = json.loads(capsys.readouterr().out)
    assert [(e["system"], e["action"], e["key"]) for e in entries] == [
        (Effect.ESCALATE.system, Effect.ESCALATE.action, "t1")
    ]
    assert main(["ledger", "--url", served]) == EXIT_OK
    table = capsys.readouterr().out
    assert Effect.ESCALATE in table
    assert table.splitlines()[0].split()[:5] == ["SEQ", "AT", "ORDER", "EFFECT", "KEY"]


def test_format_ledger_empty() -> None:
    assert format_ledger([]) == "(no effects)"


def test_settle_and_money(served: str, capsys: pytest.CaptureFixture[str]) -> None:
    httpx.get(
        f"{served}/v1/payments/transactions/tx-pay-never-7",
        params={"order_id": "ORD-7", "method": "alipay", "amount": "600.00"},
    ).raise_for_status()
    assert main(["settle", "tx-pay-never-7", "--url", served]) == EXIT_OK
    assert capsys.readouterr().out.strip() == "tx-pay-never-7: succeeded 600.00 CNY (order ORD-7)"
    # A payment the channel holds for an order nobody started.
    orphan = ["settle", "tx-orphan-7", "--amount", "300", "--order", "ORD-NONE"]
    assert main([*orphan, "--url", served]) == EXIT_INVALID
    assert "--method" in one_line(capsys.readouterr().err)
    assert main([*orphan, "--method", "wechat_pay", "--url", served]) == EXIT_OK
    assert "succeeded 300.00 CNY (order ORD-NONE)" in capsys.readouterr().out
    assert main(["settle", "tx-orphan-7", "--amount", "1.00", "--url", served]) == EXIT_INVALID
    assert "--amount" in one_line(capsys.readouterr().err)
    with pytest.raises(SystemExit) as exited:
        main(["settle", "tx-x", "--amount", "1.234"])
    assert exited.value.code == EXIT_INVALID
    assert "--amount" in one_line(capsys.readouterr().err)

    assert main(["money", "--url", served]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "captured 300.00 CNY  claimed by -  refunded 0.00" in lines[1]
    assert main(["money", "--json", "--url", served]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert [r["transaction_id"] for r in rows] == ["tx-pay-never-7", "tx-orphan-7"]
