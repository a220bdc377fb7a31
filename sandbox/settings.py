"""The sandbox's settings, from the same `UPGRADE_*` variables the rest of the stack reads.

Only what the sandbox uses: where it serves, where it keeps its SQLite file, the time scale that
divides its simulated delays (the worker divides its policy by the same `UPGRADE_TIME_SCALE`, so
the two agree), and, for the client commands of `python -m sandbox`, the URL and timeout to reach
a running one. A bad value stops the command with one line naming the variable (`sandbox.cli`).

Boundary: the sandbox depends on `domain` only, so it does not import the service's settings.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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


def load_settings() -> SandboxSettings:
    return SandboxSettings()
