"""The machine and software a benchmark ran on, for the report (numbers mean nothing without it).

Boundary: reads the platform, /proc/cpuinfo and package metadata; changes nothing.
"""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

from service.dev_server import temporal_binary


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _server_version() -> str:
    try:
        out = subprocess.run(
            [str(temporal_binary()), "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"unknown ({error})"
    return out.stdout.strip() or out.stderr.strip()


def describe_machine() -> dict[str, str | int]:
    return {
        "cores": os.cpu_count() or 0,
        "cpu_model": _cpu_model(),
        "ram_bytes": int(psutil.virtual_memory().total),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "temporalio": metadata.version("temporalio"),
        "pydantic": metadata.version("pydantic"),
        "temporal_cli": _server_version(),
    }
