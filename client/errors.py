"""What the client operations raise besides Temporal's own errors: an unknown order, a message the
run refused, a message nobody answered in time. Callers map them to their answers (exit codes,
HTTP problems).
"""


class UpgradeNotFound(LookupError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"no upgrade for order {order_id!r}")
        self.order_id = order_id


class MessageRejected(ValueError):
    """The run refused a message (validator); nothing was recorded. `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class MessageTimeout(TimeoutError):
    """No answer from the run within the caller's limit: typically no worker is running. The
    message may still be applied when a worker picks it up; every message is safe to send again
    (a repeated notice is a `duplicate`, a repeated cancel waits for the same end)."""

    def __init__(self, order_id: str, seconds: float | None) -> None:
        # Without a caller's limit, the server's own deadline ran out (an overloaded server).
        limit = f"within {seconds:g}s" if seconds else "before the server's deadline"
        super().__init__(
            f"no answer from the upgrade of order {order_id!r} {limit} (is a worker "
            "running?); it may still be applied later: check `status`, sending it again is safe"
        )
        self.order_id = order_id
        self.seconds = seconds
