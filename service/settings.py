"""Settings from the environment (`UPGRADE_*`), validated once; a bad value stops the process
with a message naming the variable.

Temporal's own connection settings (address, namespace, TLS, API key) are not here: they come
from `temporalio.envconfig` (`TEMPORAL_*` variables or a profile file), see `service.temporal`.

Secrets (encryption keys, tokens) are `SecretStr`: they print as `**********` in a repr, a log
line or a validation error (inputs are hidden from errors, which could otherwise echo a key).
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.codec import parse_key_ring

TASK_QUEUE = "upgrade-activation"
ENV_PREFIX = "UPGRADE_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", hide_input_in_errors=True
    )

    # Divides every policy duration and every simulated platform delay (demo: 60, tests: 3600).
    time_scale: float = Field(default=1.0, gt=0, le=100_000)
    task_queue: str = TASK_QUEUE
    platform_url: str = "http://127.0.0.1:8300"
    # Per HTTP call; Temporal's activity timeout sits above it.
    http_timeout_s: float = Field(default=10.0, gt=0)
    data_dir: Path = Path(".data")
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8300, ge=1, le=65535)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    # How long a stopping worker lets running activities finish.
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    # The worker's Prometheus endpoint (`host:port`, served at /metrics); empty: no endpoint.
    metrics_bind: str = "127.0.0.1:9464"

    @field_validator("metrics_bind")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected host:port (e.g. 0.0.0.0:9464) or empty, got {value!r}")
        return value

    # Payload encryption (service.codec): `id:base64-32-bytes,...`, the first encrypts. Unset = off.
    encryption_keys: SecretStr | None = None
    # The codec server for the Web UI and CLI (python -m service.codec_server).
    codec_host: str = "127.0.0.1"
    codec_port: int = Field(default=8888, ge=1, le=65535)
    # Comma-separated origins allowed to call it from a browser (the Web UI).
    codec_cors_origins: str = "http://localhost:8233"
    # When set, every codec request must carry `Authorization: Bearer <token>`.
    codec_auth_token: SecretStr | None = None

    @field_validator("encryption_keys")
    @classmethod
    def _keys_parse(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            parse_key_ring(value.get_secret_value())
            return value
        return None  # set but empty: encryption off, as if unset

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.codec_cors_origins.split(",") if o.strip()]


def load_settings() -> Settings:
    return Settings()


def settings_error_line(error: ValidationError) -> str:
    """One line naming the variable of the first invalid setting, e.g. for a CLI's stderr."""
    first = error.errors()[0]
    variable = ENV_PREFIX + "_".join(str(part) for part in first["loc"]).upper()
    message = first["msg"].removeprefix("Value error, ").removeprefix(f"{variable}: ")
    return f"{variable}: {message}"
