"""Settings from the environment (`UPGRADE_*`), validated once; a bad value stops the process
with a message naming the variable.

Temporal's own connection settings (address, namespace, TLS, API key) are not here: they come
from `temporalio.envconfig` (`TEMPORAL_*` variables or a profile file), see `service.temporal`.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TASK_QUEUE = "upgrade-activation"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UPGRADE_", extra="ignore")

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


def load_settings() -> Settings:
    return Settings()
