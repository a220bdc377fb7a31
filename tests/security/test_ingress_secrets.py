"""The ingress's secrets (the channels' signing secrets, the operator and backend tokens) never
reach a log line, a problem body, a header or a repr.

Every code path that sees one runs with logging captured at DEBUG in both renderers: settings
loading and whatever a careless caller might log of them, a good and a bad signature, a good and
a bad bearer token for each role (the backend token presented to the operators' endpoint too),
the not-configured 503s, and `python -m ingress` itself (its startup line, uvicorn's lines, the
access log, the refusals) as a real process. The capture is shown to see the other text of those
paths, and the leak check to find a secret where there is one.
"""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
import pytest
import structlog
from fastapi import FastAPI

from domain.models import PaymentMethod
from ingress.app import create_app
from ingress.settings import (
    BACKEND_TOKEN_ENV,
    OPERATOR_TOKEN_ENV,
    channel_secret_env,
    load_ingress_settings,
)
from ingress.signature import HEADER, sign
from service.ports import free_port
from tests.security.secrets_capture import captured_output, leaked_secrets
from tests.support.live_stack import ROOT

CHANNEL_SECRETS = {m: f"chan-{m.value}-3f9a1c77e2" for m in PaymentMethod}
OPERATOR_TOKEN = "op-token-b41d6e08c5"
BACKEND_TOKEN = "be-token-9e27a4f1d3"
SECRETS = [*CHANNEL_SECRETS.values(), OPERATOR_TOKEN, BACKEND_TOKEN]
CLOSED_TEMPORAL = "127.0.0.1:1"  # nothing listens: requests that pass auth answer 503
NOTICE = json.dumps(
    {"order_id": "ORD-1", "transaction_id": "txn-1", "amount": "600.00", "currency": "CNY",
     "status": "succeeded"}
).encode()  # fmt: skip


def secret_env() -> dict[str, str]:
    env = {channel_secret_env(m): s for m, s in CHANNEL_SECRETS.items()}
    return env | {OPERATOR_TOKEN_ENV: OPERATOR_TOKEN, BACKEND_TOKEN_ENV: BACKEND_TOKEN}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed(secret: str, body: bytes = NOTICE) -> dict[str, str]:
    return {HEADER: sign(body, secret), "Content-Type": "application/json"}


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    answer: int  # what the ingress must answer (secrets set, Temporal unreachable)


def exchanges() -> list[Exchange]:
    """Every authentication outcome of the ingress: good and bad signatures and tokens."""
    alipay = CHANNEL_SECRETS[PaymentMethod.ALIPAY]
    wechat = CHANNEL_SECRETS[PaymentMethod.WECHAT_PAY]
    notify, status = "/v1/payments/notify/alipay", "/v1/upgrades/ORD-1"
    resolve, approve = "/v1/upgrades/ORD-1/resolve", b'{"action": "approve"}'
    json_type = {"Content-Type": "application/json"}
    return [
        Exchange("POST", notify, signed(alipay), NOTICE, 503),  # good: then Temporal is down
        Exchange("POST", notify, signed(wechat), NOTICE, 401),  # another channel's secret
        Exchange("POST", notify, signed(alipay), NOTICE + b" ", 401),  # body changed after signing
        Exchange("POST", notify, {HEADER: "sha256=" + alipay}, NOTICE, 401),  # the secret itself
        Exchange("GET", status, bearer(BACKEND_TOKEN), b"", 503),
        Exchange("GET", status, bearer(OPERATOR_TOKEN), b"", 503),
        Exchange("GET", status, bearer(BACKEND_TOKEN + "x"), b"", 401),  # a near miss
        Exchange("POST", resolve, bearer(BACKEND_TOKEN) | json_type, approve, 401),  # wrong role
        Exchange("POST", resolve, bearer(OPERATOR_TOKEN) | json_type, approve, 503),
    ]


def transcript(responses: list[httpx.Response]) -> str:
    return "\n".join(f"{r.status_code} {dict(r.headers)} {r.text}" for r in responses)


async def send_all(app: FastAPI, requests: list[Exchange]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as http:
        return [
            await http.request(r.method, r.url, headers=r.headers, content=r.body) for r in requests
        ]


@pytest.mark.parametrize("fmt", ["json", "console"])
async def test_ingress_secrets_never_appear_in_logs_problems_or_reprs(
    monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    for name, value in secret_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TEMPORAL_ADDRESS", CLOSED_TEMPORAL)
    with captured_output(fmt) as out:
        log = structlog.get_logger("ingress-secrets-test")
        settings = load_ingress_settings()
        # Whatever a careless caller might log: the settings object, its dump, its repr, JSON.
        log.info("settings", settings=settings, dump=settings.model_dump(), r=repr(settings))
        log.debug("settings json", json=settings.model_dump_json(), s=str(settings))
        log.info("channels", channels=settings.configured_channels())
        # No client: requests that pass authentication find Temporal down (503).
        answers = await send_all(create_app(settings), exchanges())
        # The not-configured doors: no operator token, no alipay secret.
        monkeypatch.setenv(OPERATOR_TOKEN_ENV, "")
        monkeypatch.setenv(channel_secret_env(PaymentMethod.ALIPAY), "")
        closed = [
            r for r in exchanges()
            if r.answer == 503 and r.url.endswith(("/alipay", "/resolve"))
        ]  # fmt: skip
        not_configured = await send_all(create_app(load_ingress_settings()), closed)
    assert [r.status_code for r in answers] == [r.answer for r in exchanges()], transcript(answers)
    assert [r.json()["type"] for r in not_configured] == ["/problems/not-configured"] * 2
    text = out.text
    # The capture saw these paths (so the absence below means something).
    for seen in ("payment notice refused", "the signature does not match the body", "alipay",
                 "**********", "wechat_pay"):  # fmt: skip
        assert seen in text, seen
    assert leaked_secrets(text, SECRETS) == []
    assert leaked_secrets(transcript(answers + not_configured), SECRETS) == []
    assert (
        leaked_secrets(repr(settings) + str(settings) + settings.model_dump_json(), SECRETS) == []
    )
    # The check does find a secret where there is one.
    assert leaked_secrets(f"Bearer {BACKEND_TOKEN}.", SECRETS) == [BACKEND_TOKEN]


@pytest.mark.timeout(60)
def test_the_ingress_process_never_logs_its_secrets() -> None:
    """`python -m ingress` at DEBUG: its startup line, uvicorn's own lines and access log, the
    refusals and the failed Temporal connections, all in its output; no secret among them."""
    port = free_port()
    env = os.environ | secret_env() | {
        "TEMPORAL_ADDRESS": CLOSED_TEMPORAL,
        "UPGRADE_INGRESS_PORT": str(port),
        "UPGRADE_LOG_LEVEL": "DEBUG",
        "UPGRADE_LOG_FORMAT": "json",
        "UPGRADE_METRICS_BIND": "",  # no Prometheus port for this process
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingress"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            wait_healthy(http, proc)
            answers = [
                http.request(r.method, r.url, headers=r.headers, content=r.body)
                for r in exchanges()
            ]
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    text = output.decode("utf-8", "replace")
    assert proc.returncode == 0, text[-2000:]
    assert [r.status_code for r in answers] == [r.answer for r in exchanges()], transcript(answers)
    starting = [json.loads(line) for line in text.splitlines() if '"ingress starting"' in line]
    assert len(starting) == 1, text[-2000:]
    assert starting[0]["operator_token"] is True and starting[0]["backend_token"] is True
    assert sorted(starting[0]["channels"]) == sorted(m.value for m in PaymentMethod)
    for seen in ("payment notice refused", "/v1/upgrades/ORD-1/resolve", "temporal not reachable"):
        assert seen in text, seen
    assert leaked_secrets(text, SECRETS) == []
    assert leaked_secrets(transcript(answers), SECRETS) == []


def wait_healthy(http: httpx.Client, proc: "subprocess.Popen[bytes]") -> None:
    for _ in range(150):
        assert proc.poll() is None, f"ingress exited with {proc.returncode}"
        try:
            if http.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the ingress never answered /healthz")
