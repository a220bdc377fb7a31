"""The browser of `make screenshots`: Debian's `chromium` package, installed on demand.

Role: make sure `/usr/bin/chromium` exists (installing the package with apt-get when it is missing
and we are root; a clear error otherwise), and say which flags it needs to run headless as root in
a container. Playwright drives this binary; its own browser download is never used.
"""

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")

# As root, in a container, with no network beyond the local stack: no sandbox (needs user
# namespaces), no GPU, and none of Chrome's own background traffic (updates, sync, QUIC probes).
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class BrowserUnavailable(Exception):
    """Chromium is missing and cannot be installed here; the message says what to do."""


def _apt(*args: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(
        ["apt-get", *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise BrowserUnavailable(f"`apt-get {' '.join(args)}` failed ({result.returncode}): {tail}")


def ensure_chromium(say: Callable[[str], None]) -> Path:
    """The path of a working Chromium, installing Debian's package first if it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise BrowserUnavailable(
            f"{CHROMIUM} is missing and there is no apt-get: install Chromium at that path"
        )
    if os.geteuid() != 0:
        raise BrowserUnavailable(
            f"{CHROMIUM} is missing; installing it needs root: run "
            "`sudo apt-get update && sudo apt-get install -y chromium`, then retry"
        )
    say(f"screenshots: {CHROMIUM} missing, installing Debian's chromium package (apt-get)")
    _apt("update")
    _apt("install", "-y", "--no-install-recommends", "chromium")
    if not CHROMIUM.exists():
        raise BrowserUnavailable(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM
