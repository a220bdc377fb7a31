"""Every activity call and every wait of the saga, by discipline, each with one signature:
`(state, activity method, input, *, summary, ...)`, typed by the activity method itself (a wrong
input model is a type error, not an activity that fails and retries).

- `forward`: a forward step. Business refusals raise `Refusal`; other failures are recorded on
  the stage and retried after a durable backoff, forever (the activation SLA brings a person).
- `interruptible`: one call of the forward path that watches for a `cancel`, and optionally for a
  reason to stop waiting for it (reads only).
- `must_complete`: compensations and tickets, retried by Temporal without limit.
- `best_effort`: notifications; a failure is logged and the saga goes on.
- `wait`: a durable timer or a condition, whichever first; a `cancel` ends it and the saga.

Timeouts and retry policies come from `policies`, scaled with the run's time scale (`RunState`).
"""

# Annotations stay unevaluated: this module is executed afresh in every sandboxed run, and the
# generic aliases of the signatures below would be built (and kept) in each.
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import ErrorType

from workflows.exits import Refusal, cancelled
from workflows.policies import CALL_TIMEOUT, SHORT_WAIT
from workflows.state import RunState

if TYPE_CHECKING:
    Self = TypeVar("Self")
    In = TypeVar("In")
    Out = TypeVar("Out")

    # An activity method of a class in `activities/` (`PaymentActivities.refund_payment`): the
    # activity's type name and its input and result types come from it.
    ActivityMethod: TypeAlias = Callable[[Self, In], Awaitable[Out]]


async def forward(
    state: RunState,
    activity: ActivityMethod[Self, In, Out],
    arg: In,
    *,
    summary: str,
    poll: bool = False,
) -> Out:
    """A forward step: business refusals raise `Refusal`; other failures are recorded on the
    stage and retried after a durable backoff, forever (the SLA escalation watches)."""
    while True:
        try:
            return await interruptible(
                state,
                activity,
                arg,
                summary=summary,
                retry=state.poll_retry if poll else state.forward_retry,
            )
        except ActivityError as err:
            refusal = _refusal_of(err)
            if refusal is not None and refusal.error_type != ErrorType.PLATFORM_CONTRACT:
                raise refusal from err
            state.note_error(f"{summary}: {err.cause or err}")
        await wait(state, lambda: False, state.backoff, f"back off, then retry: {summary}")


@overload
async def interruptible(
    state: RunState,
    activity: ActivityMethod[Self, In, Out],
    arg: In,
    *,
    summary: str,
    retry: RetryPolicy,
    on_late: Callable[[Out], None] | None = None,
) -> Out: ...


@overload
async def interruptible(
    state: RunState,
    activity: ActivityMethod[Self, In, Out],
    arg: In,
    *,
    summary: str,
    retry: RetryPolicy,
    until: Callable[[], bool],
    on_late: Callable[[Out], None] | None = None,
) -> Out | None: ...


async def interruptible(
    state: RunState,
    activity: ActivityMethod[Self, In, Out],
    arg: In,
    *,
    summary: str,
    retry: RetryPolicy,
    until: Callable[[], bool] | None = None,
    on_late: Callable[[Out], None] | None = None,
) -> Out | None:
    """Run one activity of the forward path, watching for a `cancel` (which ends the saga once
    the call in flight has finished) and, with `until`, for a reason to stop waiting for it
    (the call is left to finish on its own and None is returned: only for reads). `on_late`
    receives the result of a call that finished after a `cancel` arrived, before the saga ends:
    what it learned (a payment taken) must not be thrown away."""
    check_cancel(state)
    call = asyncio.ensure_future(
        workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=CALL_TIMEOUT,
            retry_policy=retry,
            summary=summary,
        )
    )
    stop = until or (lambda: False)
    await workflow.wait_condition(lambda: call.done() or state.cancel is not None or stop())
    if not call.done() and state.cancel is not None:
        # Let the request already sent finish before anything is undone: a compensation
        # overtaken by its own forward call would not net to zero.
        with contextlib.suppress(ActivityError):
            await call
        if on_late is not None and call.exception() is None:
            on_late(call.result())
        check_cancel(state)
    if not call.done():
        call.add_done_callback(_ignore_outcome)
        return None
    return call.result()


async def must_complete(
    state: RunState, activity: ActivityMethod[Self, In, Out], arg: In, *, summary: str
) -> Out:
    """Compensations and tickets: retried by Temporal without limit."""
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=CALL_TIMEOUT,
        retry_policy=state.must_retry,
        summary=summary,
    )


async def best_effort(
    state: RunState, activity: ActivityMethod[Self, In, None], arg: In, *, summary: str
) -> None:
    try:
        await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=CALL_TIMEOUT,
            retry_policy=state.best_effort_retry,
            summary=summary,
        )
    except ActivityError as err:
        workflow.logger.warning("best-effort step failed, going on: %s: %s", summary, err.cause)


async def wait(
    state: RunState, condition: Callable[[], bool], within: timedelta, summary: str
) -> None:
    """Wait until `condition` holds or `within` has passed (a durable timer), whichever first;
    a `cancel` ends the wait and the saga."""
    check_cancel(state)
    if within > timedelta(0):
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: condition() or state.cancel is not None,
                timeout=within,
                timeout_summary=summary,
            )
    check_cancel(state)


def check_cancel(state: RunState) -> None:
    if state.cancel is not None:
        raise cancelled(state.cancel.reason)


def inline(wait: timedelta) -> timedelta:
    """The part of a wait to spend inside the checking activity: all of it when it is too short
    for a durable timer (`SHORT_WAIT`), else none (the workflow sleeps on a timer)."""
    return wait if timedelta(0) < wait < SHORT_WAIT else timedelta(0)


def _refusal_of(err: ActivityError) -> Refusal | None:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable and cause.type:
        details = cause.details[0] if cause.details else None
        field = details.get("field") if isinstance(details, dict) else None
        return Refusal(cause.type, cause.message, str(field) if field else None)
    return None


def _ignore_outcome(call: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of a read that nobody waits for any more (no 'never retrieved')."""
    if not call.cancelled():
        call.exception()
