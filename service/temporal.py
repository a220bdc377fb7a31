"""The one place a Temporal client is built: worker, starter, tests and tools all call `connect`.

Connection settings come from `temporalio.envconfig`: the `TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*` variables or a profile in the TOML config
file (`TEMPORAL_CONFIG_FILE`, `TEMPORAL_PROFILE`), so the same code reaches the dev server, a
self-hosted cluster or Temporal Cloud. Payloads use the pydantic data converter; with
`UPGRADE_ENCRYPTION_KEYS` set they are also encrypted (`service.codec`), and so are failure
messages and stack traces, which would otherwise reach the server in clear text. A process that
exports metrics passes its own `Runtime` (see `service.metrics_endpoint`); the others share the SDK default.
"""

import dataclasses
import os
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime

from service.codec import AesGcmCodec, parse_key_ring
from service.settings import Settings, load_settings

DEFAULT_ADDRESS = "localhost:7233"


class ConnectionSettingsError(ValueError):
    """The Temporal connection settings cannot be used (bad profile or config file): invalid input,
    reported as one line naming the variable, before anything is contacted."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


def _load_envconfig() -> dict[str, Any]:
    config_file = os.environ.get("TEMPORAL_CONFIG_FILE")
    # envconfig silently ignores a missing file; a path someone set on purpose must exist.
    if config_file and not Path(config_file).is_file():
        raise ConnectionSettingsError("TEMPORAL_CONFIG_FILE", f"no such file: {config_file}")
    try:
        # Strict: a misspelt key in a profile ("adress") is an error, not a silent default.
        return dict(ClientConfig.load_client_connect_config(config_file_strict=True))
    except RuntimeError as err:  # the bridge's ConfigError: unknown profile, bad TOML or key
        variable = "TEMPORAL_PROFILE" if str(err).startswith("Profile ") else "TEMPORAL_CONFIG_FILE"
        raise ConnectionSettingsError(variable, " ".join(str(err).split())) from None


def connect_config(address: str | None = None, namespace: str | None = None) -> dict[str, Any]:
    """Keyword arguments for `Client.connect`, from envconfig, with optional overrides."""
    config: dict[str, Any] = _load_envconfig()
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if address:
        config["target_host"] = address
    if namespace:
        config["namespace"] = namespace
    return config


def codec_from_settings(settings: Settings) -> AesGcmCodec | None:
    if settings.encryption_keys is None:
        return None
    return AesGcmCodec(parse_key_ring(settings.encryption_keys.get_secret_value()))


def data_converter(settings: Settings | None = None) -> DataConverter:
    """The pydantic converter, plus the encryption codec when keys are configured."""
    codec = codec_from_settings(settings or load_settings())
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(
    address: str | None = None,
    namespace: str | None = None,
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """A client for `address`/`namespace` (envconfig otherwise). `runtime` carries the telemetry
    (e.g. a Prometheus endpoint) for the client and every worker built on it."""
    return await Client.connect(
        **connect_config(address, namespace),
        data_converter=data_converter(settings),
        runtime=runtime,
    )
