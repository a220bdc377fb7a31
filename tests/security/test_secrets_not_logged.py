"""Secrets never reach a log line, an error message or a repr: encryption keys, the codec
server's token and Temporal's API key go through every code path that sees them (settings
loading, bad-key errors, the codec, the codec server, the starter and the worker failing to
connect) with logging captured at DEBUG in both renderers; none of them appears."""

import asyncio
import os

import httpx
import pytest
from pydantic import ValidationError

import starter
import worker
from service.codec import EncryptionConfigError, parse_key_ring
from service.codec_server import app_from_settings
from service.settings import load_settings, settings_error_line
from service.temporal import codec_from_settings, data_converter
from tests.security.keys import new_key
from tests.security.secrets_capture import captured_output, leaked_secrets

CURRENT, OLD = new_key(), new_key()
TOKEN = "codec-token-6f1d2e9a"
API_KEY = "temporal-api-key-91c7b3"
SHORT_KEY = "c2hvcnQtYnV0LXNlY3JldA=="  # 16 bytes (AES-128): refused, and must not be echoed


def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPGRADE_ENCRYPTION_KEYS", f"k2:{CURRENT},k1:{OLD}")
    monkeypatch.setenv("UPGRADE_CODEC_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("TEMPORAL_API_KEY", API_KEY)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # closed: connecting fails fast
    # No Prometheus endpoint: a runtime binds its port for the life of the process.
    monkeypatch.setenv("UPGRADE_METRICS_BIND", "")


async def exercise_codec_server() -> list[int]:
    app = app_from_settings(load_settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as http:
        body = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L3BsYWlu"}, "data": "eA=="}]}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        codes = [(await http.post("/encode", json=body)).status_code]  # no token: 401
        sealed = (await http.post("/encode", json=body, headers=auth)).json()
        sealed["payloads"][0]["data"] = "AAAA" + sealed["payloads"][0]["data"][4:]  # tampered
        codes.append((await http.post("/decode", json=sealed, headers=auth)).status_code)
    return codes


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_secrets_never_appear_in_logs_errors_or_reprs(
    monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    secret_env(monkeypatch)
    secrets = [CURRENT, OLD, TOKEN, API_KEY, SHORT_KEY]
    with captured_output(fmt) as out:
        import structlog

        log = structlog.get_logger("secrets-test")
        settings = load_settings()
        # Whatever a careless caller might log: the settings object, its dump, its repr.
        log.info("settings", settings=settings, dump=settings.model_dump(), r=repr(settings))
        log.debug("settings json", json=settings.model_dump_json())
        codec = codec_from_settings(settings)
        ring = parse_key_ring(f"k2:{CURRENT},k1:{OLD}")
        log.info("codec", codec=codec, ring=ring, converter=data_converter(settings))
        # A key of the wrong length: the error names the variable and the key id, not the key.
        monkeypatch.setenv("UPGRADE_ENCRYPTION_KEYS", f"k1:{SHORT_KEY}")
        with pytest.raises(ValidationError) as bad:
            load_settings()
        log.exception("bad settings", exc_info=bad.value, line=settings_error_line(bad.value))
        with pytest.raises(EncryptionConfigError) as bad_ring:
            parse_key_ring(f"k1:{SHORT_KEY}")
        log.error("bad ring", error=str(bad_ring.value))
        assert starter.main(["status", "ORD-1"]) == 2  # the CLI refuses the bad key, one line
        monkeypatch.setenv("UPGRADE_ENCRYPTION_KEYS", f"k2:{CURRENT},k1:{OLD}")
        codes = asyncio.run(exercise_codec_server())
        # The CLI and the worker failing to reach Temporal with an API key configured.
        assert starter.main(["status", "ORD-1"]) == 1
        with pytest.raises(RuntimeError) as unreachable:
            worker.main()
        log.exception("worker failed", exc_info=unreachable.value)
    assert codes == [401, 400]
    text = out.text
    # The capture saw the paths it should have (so the absence below means something).
    for seen in ("UPGRADE_ENCRYPTION_KEYS: key 'k1' is 16 bytes", "k2", "cannot reach Temporal"):
        assert seen in text, seen
    assert "codec request refused" in text and "**********" in text
    assert leaked_secrets(text, secrets) == []
    assert leaked_secrets(repr(settings) + str(settings), secrets) == []
    assert leaked_secrets(f"{codec!r} {ring!r}", secrets) == []
    # The helper does find a secret where there is one.
    assert leaked_secrets(f"x{TOKEN}x {bytes.fromhex(bytes(32).hex()).hex()}", secrets) == [TOKEN]
    assert os.environ["UPGRADE_CODEC_AUTH_TOKEN"] == TOKEN
