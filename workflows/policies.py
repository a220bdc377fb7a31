"""Timeouts and retry policies of the saga's activity calls, defined once and by name.

Platform calls are plain HTTP requests (each bounded by the HTTP client's own timeout), so every
call gets a short start-to-close timeout; waits of minutes to days are durable timers in the
workflow, never long activities.
"""

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.errors import ErrorType

# Waits shorter than this happen inside the checking activity (`domain.steps.CheckStep`), not
# as durable timers: the server fires a timer no sooner than about a second (measured on the dev
# server: 50 ms and 200 ms timers both fired after 1.0 s). At scale 1 every wait is longer than
# this and is a timer; at 3600x a second is an hour of policy time and must not be lost.
SHORT_WAIT = timedelta(seconds=2)

# An HTTP call plus slack: a call that takes longer than this is treated as lost and retried.
CALL_TIMEOUT = timedelta(seconds=30)

_NON_RETRYABLE = (
    ErrorType.RECONCILIATION_MISMATCH.value,
    ErrorType.CAPACITY_REFUSED.value,
    ErrorType.PAYMENT_FAILED.value,
    ErrorType.PLATFORM_CONTRACT.value,
)

# Forward steps: a few quick retries inside the activity; if the platform is still failing, the
# workflow records the error (visible in `status` and in an escalation) and tries again after
# FORWARD_BACKOFF, forever; the activation SLA brings a person if that lasts.
FORWARD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
    non_retryable_error_types=_NON_RETRYABLE,
)
FORWARD_BACKOFF = timedelta(seconds=30)

# Reads while polling: a failed look is just a look that saw nothing; the next poll comes anyway.
POLL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=3,
    non_retryable_error_types=_NON_RETRYABLE,
)

# Compensations and tickets must happen: retried without limit (maximum_attempts=0), backing off
# to once a minute so a platform outage is not hammered.
MUST_COMPLETE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
    non_retryable_error_types=[ErrorType.PLATFORM_CONTRACT.value],
)

# Notifications are best effort: retried for a while, then the saga goes on without them.
BEST_EFFORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
)


# Below this, a scaled retry or backoff interval would only hammer the platform.
_MIN_INTERVAL = timedelta(milliseconds=50)


def scaled_retry(policy: RetryPolicy, time_scale: float) -> RetryPolicy:
    """The policy with its intervals divided by the time scale, like every other duration.

    At 3600x a simulated outage also passes 3600x faster; unscaled retries would make a flaky
    platform look an hour slow and trip the activation SLA for no real reason.
    """
    initial = max(policy.initial_interval / time_scale, _MIN_INTERVAL)
    maximum = policy.maximum_interval
    return replace(
        policy,
        initial_interval=initial,
        maximum_interval=max(maximum / time_scale, initial) if maximum else None,
    )


def scaled_backoff(time_scale: float) -> timedelta:
    return max(FORWARD_BACKOFF / time_scale, _MIN_INTERVAL)


# A compensation (or the refund) still failing after this long escalates `compensation_stuck` and
# stops holding up the rest of the unwinding: it keeps retrying (must-complete) while the other
# undos and the refund run, and the run ends only once it has finished. Half an hour: at the
# must-complete back-off (up to once a minute) that is some 30 attempts, far beyond a blip.
COMPENSATION_STUCK_AFTER = timedelta(minutes=30)
# ...but never less than this much wall time: at 3600x the half hour is half a second, less than
# a loaded machine's own latency (and than the server's shortest timer), and healthy undos would
# escalate. A stuck undo is a platform outage; ten seconds late to say so costs nothing.
_STUCK_AFTER_FLOOR = timedelta(seconds=10)


def scaled_stuck_after(time_scale: float) -> timedelta:
    return max(COMPENSATION_STUCK_AFTER / time_scale, _STUCK_AFTER_FLOOR)
