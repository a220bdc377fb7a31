"""How a run leaves its forward path: `SagaEnd` (unwind, then finish in a given stage) and
`Refusal` (a business refusal of the platform that a person must decide on).

Exceptions only; what is done about them is in `compensation` and `decisions`.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import Resolution
    from domain.stages import Stage


class SagaEnd(Exception):
    """Ends the forward path early: the run finishes in `stage` after unwinding."""

    def __init__(self, stage: Stage, reason: str, *, refund: bool) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason
        self.refund = refund


class Refusal(Exception):
    """A business refusal (non-retryable error type) that a person must decide on."""

    def __init__(self, error_type: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        # The field at fault (`from_plan`, `app_id`, `transaction_id`, `amount`, `currency`).
        self.field = field


def cancelled(reason: str) -> SagaEnd:
    """The end of a run whose `cancel` update was accepted: unwind and refund."""
    return SagaEnd(Stage.CANCELLED, reason, refund=True)


def rejected(decision: Resolution) -> SagaEnd:
    """The end of a run an operator rejected: unwind and refund."""
    note = f": {decision.note}" if decision.note else ""
    return SagaEnd(Stage.FAILED, f"rejected by operator{note}", refund=True)
