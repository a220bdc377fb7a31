"""The codec server speaks Temporal's remote codec protocol: encode/decode of protobuf-JSON
payloads under any path prefix, the X-Namespace check, CORS for the Web UI, the optional bearer
token; and `python -m service.codec_server` serves it over real HTTP."""

import base64
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from service.codec import AesGcmCodec, parse_key_ring
from service.codec_server import build_app
from service.ports import free_port
from tests.security.keys import key_ring, new_key
from tests.support.saga_runs import make_order

ROOT = Path(__file__).resolve().parents[2]
UI = "http://localhost:8233"
ORDER = make_order("ORD-CS-1", account_id="acct-cs-5521")


def body_of(order_payloads: Payloads) -> dict[str, object]:
    return json_format.MessageToDict(order_payloads)


def plain() -> Payloads:
    return Payloads(payloads=[pydantic_data_converter.payload_converter.to_payload(ORDER)])


def client_for(codec: AesGcmCodec, token: str | None = None) -> httpx.AsyncClient:
    app = build_app(codec, namespace="default", cors_origins=[UI], auth_token=token)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://codec")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(AesGcmCodec(parse_key_ring(key_ring("k1")))) as client:
        yield client


async def test_encode_then_decode_over_http(http: httpx.AsyncClient) -> None:
    headers = {"X-Namespace": "default"}
    encoded = await http.post("/encode", json=body_of(plain()), headers=headers)
    assert encoded.status_code == 200, encoded.text
    sealed = json_format.ParseDict(encoded.json(), Payloads())
    # Protobuf JSON: metadata values and data are base64.
    assert encoded.json()["payloads"][0]["metadata"]["encoding"] == (
        base64.b64encode(b"binary/encrypted").decode()
    )
    assert b"acct-cs-5521" not in sealed.SerializeToString()
    decoded = await http.post("/decode", json=encoded.json(), headers=headers)
    assert decoded.status_code == 200, decoded.text
    assert json_format.ParseDict(decoded.json(), Payloads()) == plain()


async def test_only_the_last_path_segment_counts(http: httpx.AsyncClient) -> None:
    encoded = await http.post("/default/encode", json=body_of(plain()))
    assert encoded.status_code == 200
    decoded = await http.post("/some/mount/point/decode", json=encoded.json())
    assert json_format.ParseDict(decoded.json(), Payloads()) == plain()


async def test_unencrypted_payloads_decode_unchanged(http: httpx.AsyncClient) -> None:
    decoded = await http.post("/decode", json=body_of(plain()))
    assert json_format.ParseDict(decoded.json(), Payloads()) == plain()


async def test_bad_body_unknown_key_and_other_namespace_are_refused(
    http: httpx.AsyncClient,
) -> None:
    not_json = await http.post("/decode", content=b"{not json")
    assert not_json.status_code == 400 and "Payloads" in not_json.json()["message"]
    async with client_for(AesGcmCodec(parse_key_ring(key_ring("other")))) as elsewhere:
        foreign = (await elsewhere.post("/encode", json=body_of(plain()))).json()
    unknown = await http.post("/decode", json=foreign)
    assert unknown.status_code == 400 and "'other'" in unknown.json()["message"]
    wrong_ns = await http.post("/decode", json=foreign, headers={"X-Namespace": "payments"})
    assert wrong_ns.status_code == 403 and "payments" in wrong_ns.json()["message"]


async def test_cors_preflight_allows_the_web_ui_only(http: httpx.AsyncClient) -> None:
    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    ok = await http.options("/decode", headers={"Origin": UI, **asked})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == UI
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "x-namespace" in ok.headers["access-control-allow-headers"].lower()
    evil = await http.options("/decode", headers={"Origin": "http://evil.example", **asked})
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers
    # The actual request from the UI carries the CORS answer too.
    post = await http.post("/encode", json=body_of(plain()), headers={"Origin": UI})
    assert post.headers["access-control-allow-origin"] == UI


async def test_bearer_token_is_required_when_configured() -> None:
    codec = AesGcmCodec(parse_key_ring(key_ring("k1")))
    async with client_for(codec, token="s3cr3t-token") as http:
        missing = await http.post("/encode", json=body_of(plain()))
        wrong = await http.post(
            "/encode", json=body_of(plain()), headers={"Authorization": "Bearer nope"}
        )
        right = await http.post(
            "/encode", json=body_of(plain()), headers={"Authorization": "Bearer s3cr3t-token"}
        )
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)


def test_module_serves_the_protocol_over_real_http() -> None:
    key = new_key()
    port = free_port()
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), UPGRADE_ENCRYPTION_KEYS=f"k3:{key}",
        UPGRADE_CODEC_PORT=str(port), UPGRADE_LOG_FORMAT="json",
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.codec_server"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        encoded = httpx.post(f"{url}/encode", json=body_of(plain()))
        assert encoded.status_code == 200
        assert encoded.json()["payloads"][0]["metadata"]["encryption-key-id"] == (
            base64.b64encode(b"k3").decode()
        )
        decoded = httpx.post(f"{url}/decode", json=encoded.json())
        assert json_format.ParseDict(decoded.json(), Payloads()) == plain()
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    assert key.encode() not in output  # the key never reaches the log
    assert b"codec server listening" in output


def test_module_without_keys_exits_2_naming_the_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k != "UPGRADE_ENCRYPTION_KEYS"}
    result = subprocess.run(
        [sys.executable, "-m", "service.codec_server"], cwd=ROOT, capture_output=True,
        text=True, timeout=30, check=False, env=dict(env, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "codec_server: UPGRADE_ENCRYPTION_KEYS is not set: there is nothing to decode with"
    ]
