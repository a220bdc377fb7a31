"""Capture everything a code path writes (structlog/stdlib logging in both renderers, stdout,
stderr) and check that no secret leaked. Reusable: the ingress's channel secrets and operator
token go through the same `captured_output` / `leaked_secrets`.
"""

import base64
import binascii
import contextlib
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from service.logging import configure_logging


@dataclass
class Captured:
    parts: list[io.StringIO] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(p.getvalue() for p in self.parts)


@contextlib.contextmanager
def captured_output(fmt: str = "json", level: str = "DEBUG") -> Iterator[Captured]:
    """Route logging (our structlog setup, at `level`) and stdout/stderr into memory."""
    captured = Captured([io.StringIO(), io.StringIO()])
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    with (
        contextlib.redirect_stderr(captured.parts[0]),
        contextlib.redirect_stdout(captured.parts[1]),
    ):
        configure_logging(fmt, level)  # its handler binds the redirected stderr
        try:
            yield captured
        finally:
            root.handlers[:] = saved_handlers
            root.setLevel(saved_level)


def _forms(secret: str) -> set[str]:
    """The secret as given, and for a base64 key also its hex and url-safe spellings."""
    forms = {secret}
    try:
        raw = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        return forms
    if len(raw) >= 16:
        forms |= {raw.hex(), base64.urlsafe_b64encode(raw).decode(), repr(raw)[2:-1]}
    return forms


def leaked_secrets(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets (any spelling of them) that occur in `text`."""
    return [s for s in secrets if any(form in text for form in _forms(s))]
