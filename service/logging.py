"""Logging, set up once per process: structlog renders every record (ours, the stdlib's, the
Temporal SDK's `workflow.logger` / `activity.logger`) as JSON lines in production and as readable
lines on a terminal.

Temporal context (workflow id, run id, activity, attempt) is lifted from the `temporal_workflow` /
`temporal_activity` extras that the SDK's loggers attach, so every line says which run it is about.
"""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio import activity, workflow

_TEMPORAL_FIELDS = {
    "workflow_id": "workflow_id",
    "run_id": "run_id",
    "workflow_type": "workflow_type",
    "activity_type": "activity",
    "attempt": "attempt",
}


def _lift_temporal_context(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    record = event.get("_record")
    for extra in ("temporal_workflow", "temporal_activity"):
        context = getattr(record, extra, None) if record is not None else None
        if isinstance(context, dict):
            for source, target in _TEMPORAL_FIELDS.items():
                if source in context:
                    event.setdefault(target, context[source])
    return event


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            _lift_temporal_context,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The SDK's loggers append their context dict to the message; we lift it into fields instead.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    # httpx logs every request at INFO: useful while debugging, noise in production.
    logging.getLogger("httpx").setLevel(logging.WARNING)
