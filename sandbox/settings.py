"""The sandbox's settings, from the same `UPGRADE_*` variables the rest of the stack reads.

Only what the sandbox uses: where it serves, where it keeps its SQLite file, the time scale that
divides its simulated delays (the worker divides its policy by the same `UPGRADE_TIME_SCALE`, so
the two agree), and, for the client commands of `python -m sandbox`, the URL and timeout to reach
a running one. A bad value stops the command with one line naming the variable (`sandbox.cli`).

Boundary: the sandbox depends on `domain` only, so it does not import the service's settings.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox.load import LoadProfile, parse_peak_hours

ENV_PREFIX = "UPGRADE_"


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", hide_input_in_errors=True
    )

    # Divides every simulated platform delay (demo: 60, tests: 3600).
    time_scale: float = Field(default=1.0, gt=0, le=100_000)
    data_dir: Path = Path(".data")
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8300, ge=1, le=65535)
    # The client commands' target: a sandbox serving elsewhere than the defaults above.
    platform_url: str = "http://127.0.0.1:8300"
    http_timeout_s: float = Field(default=10.0, gt=0)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    # Load on the config service (`sandbox.load`): peak hours `START-END` (UTC+8) and how many
    # times slower a push applies then; extra latency per push in flight beyond the free ones.
    sandbox_peak_hours: str | None = None
    sandbox_peak_factor: float = Field(default=1.0, ge=1.0, le=100.0)
    sandbox_load_per_push: float = Field(default=0.005, ge=0.0, le=1.0)
    sandbox_free_pushes: int = Field(default=64, ge=0, le=1_000_000)

    @field_validator("sandbox_peak_hours")
    @classmethod
    def _peak_hours(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_peak_hours(value.strip())
            return value.strip()
        return None

    def load_profile(self) -> LoadProfile:
        hours = self.sandbox_peak_hours
        return LoadProfile(
            free_pushes=self.sandbox_free_pushes,
            per_push=self.sandbox_load_per_push,
            peak_hours=parse_peak_hours(hours) if hours else None,
            peak_factor=self.sandbox_peak_factor,
        )


def load_settings() -> SandboxSettings:
    return SandboxSettings()
