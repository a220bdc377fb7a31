"""The codec server: Temporal's remote codec protocol over HTTP, so the Web UI and the `temporal`
CLI can show (and encode) payloads that `service.codec` encrypted.

Protocol (Temporal's "codec server" contract): `POST .../encode` and `POST .../decode`, only the
last path segment counts, so the endpoints may be mounted under any prefix (e.g. `/{namespace}`
for the CLI's `--codec-endpoint` template). Body and answer are `{"payloads": [...]}`, a
`temporal.api.common.v1.Payloads` in protobuf JSON (bytes as base64); invalid JSON or a payload
that cannot be decoded is a 400. The `X-Namespace` header, which the Web UI and CLI send, must name
the namespace this server was started for (`TEMPORAL_NAMESPACE`, default `default`): its keys
belong to that namespace only. Browsers may call it from `UPGRADE_CODEC_CORS_ORIGINS`; with
`UPGRADE_CODEC_AUTH_TOKEN` set, every request needs `Authorization: Bearer <token>`.

Run: `python -m service.codec_server` (port `UPGRADE_CODEC_PORT`, default 8888). Not here: the
codec itself (`service.codec`). Payload contents and keys are never logged.
"""

import argparse
import hmac
import sys
from collections.abc import Sequence

import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from pydantic import ValidationError
from temporalio.api.common.v1 import Payloads

from service.codec import AesGcmCodec, PayloadDecryptionError, UnknownEncryptionKey
from service.logging import configure_logging
from service.process import run_and_exit
from service.settings import Settings, load_settings, settings_error_line
from service.temporal import codec_from_settings, connect_config

log = structlog.get_logger("codec_server")

EXIT_OK, EXIT_INVALID = 0, 2


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def build_app(
    codec: AesGcmCodec,
    *,
    namespace: str,
    cors_origins: Sequence[str],
    auth_token: str | None = None,
) -> FastAPI:
    app = FastAPI(title="upgrade-activation codec server", docs_url=None, redoc_url=None)
    # The Web UI calls from its own origin, with these headers (and a preflight first).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(cors_origins),
        allow_methods=["POST"],
        allow_headers=["Content-Type", "X-Namespace", "Authorization"],
        allow_credentials=True,
    )

    async def run(request: Request, operation: str) -> JSONResponse:
        if auth_token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {auth_token}".encode()):
                return _problem(401, "missing or wrong Authorization bearer token")
        asked = request.headers.get("x-namespace")
        if asked is not None and asked != namespace:
            return _problem(403, f"this codec server serves namespace {namespace!r}, not {asked!r}")
        payloads = Payloads()
        try:
            json_format.Parse(await request.body(), payloads)
        except (json_format.ParseError, UnicodeDecodeError) as err:
            return _problem(400, f"body is not a Payloads JSON object: {err}")
        try:
            if operation == "encode":
                result = await codec.encode(payloads.payloads)
            else:
                result = await codec.decode(payloads.payloads)
        except (UnknownEncryptionKey, PayloadDecryptionError) as err:
            log.warning("codec request refused", operation=operation, error=str(err))
            return _problem(400, str(err))
        log.info("codec request", operation=operation, payloads=len(result), namespace=asked)
        return JSONResponse(json_format.MessageToDict(Payloads(payloads=result)))

    # Only the last path segment decides the operation (the protocol's rule).
    @app.post("/encode")
    @app.post("/{prefix:path}/encode")
    async def encode(request: Request) -> JSONResponse:
        return await run(request, "encode")

    @app.post("/decode")
    @app.post("/{prefix:path}/decode")
    async def decode(request: Request) -> JSONResponse:
        return await run(request, "decode")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "current_key_id": codec.current_key_id}

    return app


def app_from_settings(settings: Settings) -> FastAPI:
    codec = codec_from_settings(settings)
    if codec is None:
        raise ValueError("UPGRADE_ENCRYPTION_KEYS is not set: there is nothing to decode with")
    token = settings.codec_auth_token
    return build_app(
        codec,
        namespace=str(connect_config().get("namespace") or "default"),
        cors_origins=settings.cors_origins,
        auth_token=token.get_secret_value() if token else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.codec_server", description=__doc__)
    parser.add_argument("--host", help="listen address (UPGRADE_CODEC_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (UPGRADE_CODEC_PORT, 8888)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        app = app_from_settings(settings)
    except ValidationError as err:
        print(f"codec_server: {settings_error_line(err)}", file=sys.stderr)
        return EXIT_INVALID
    except ValueError as err:
        print(f"codec_server: {err}", file=sys.stderr)
        return EXIT_INVALID
    configure_logging(settings.log_format, settings.log_level)
    host, port = args.host or settings.codec_host, args.port or settings.codec_port
    log.info("codec server listening", url=f"http://{host}:{port}", origins=settings.cors_origins)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    return EXIT_OK


if __name__ == "__main__":
    run_and_exit(main)
