"""The one place a Temporal client is built: worker, starter, tests and tools all call `connect`.

Connection settings come from `temporalio.envconfig`: the `TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*` variables or a profile in the TOML config
file (`TEMPORAL_CONFIG_FILE`, `TEMPORAL_PROFILE`), so the same code reaches the dev server, a
self-hosted cluster or Temporal Cloud. Payloads use the pydantic data converter. A process that
exports metrics passes its own `Runtime` (see `service.metrics`); the others share the SDK default.
"""

from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime

DEFAULT_ADDRESS = "localhost:7233"


def connect_config(address: str | None = None, namespace: str | None = None) -> dict[str, Any]:
    """Keyword arguments for `Client.connect`, from envconfig, with optional overrides."""
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if address:
        config["target_host"] = address
    if namespace:
        config["namespace"] = namespace
    return config


async def connect(
    address: str | None = None, namespace: str | None = None, *, runtime: Runtime | None = None
) -> Client:
    """A client for `address`/`namespace` (envconfig otherwise). `runtime` carries the telemetry
    (e.g. a Prometheus endpoint) for the client and every worker built on it."""
    return await Client.connect(
        **connect_config(address, namespace),
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
