"""Alarms: a durable timer that marks a moment as reached, so that decisions follow events.

Which commands a workflow task issues must never depend on the exact time the task ran. A run is
replayed with `workflow.now()` taken from each task's started event, and the fault suite caught a
first execution that ran one task with the previous task's time (after the dev server had been
SIGKILLed and restarted): a deadline compared with the clock, or a value derived from it that
decides whether to upsert, then decides differently on replay, and every later replay of the run
fails with a nondeterminism error. A timer's firing is an event in the history, seen at the same
point by the first execution and by every replay. Time still sets how long a timer lasts and the
values a run records; only decisions moved to alarms.

Since the `CLOCK_FREE_DECISIONS` patch (`workflow.patched`, read once when a run starts, so a run
started by earlier code keeps the clock comparisons its history was made with). The test of this
rule is `tests/workflows/test_clock_robustness.py`.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

CLOCK_FREE_DECISIONS = "clock-free-decisions"

# The shortest alarm: one for a moment already past still starts a timer, because whether a timer
# is started must not depend on the clock either.
_SHORTEST = timedelta(milliseconds=1)


class Alarm:
    """Rings (`rung`) when its timer fires; `cancel` stops it (a cancelled timer, in history)."""

    def __init__(self, at: datetime, summary: str) -> None:
        self.at = at
        self.rung = False
        self._task = asyncio.create_task(self._ring(summary))

    async def _ring(self, summary: str) -> None:
        await workflow.sleep(max(self.at - workflow.now(), _SHORTEST), summary=summary)
        self.rung = True

    def cancel(self) -> None:
        if not self._task.done():
            self._task.cancel()
