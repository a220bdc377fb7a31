"""Temporal servers for tests, from the PyPI wheels (the SDK cannot download them here).

`time_skipping_env` for timers and escalation; `dev_server_env` for what the time-skipping server
lacks (update-with-start, user metadata, id-reuse policies). Both register our search attributes.
"""

import shutil
import sys
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from workflows.search_attributes import ALL_KEYS, REGISTRATION


def _binary(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the project (make test does)")
    return found


_INDEXED = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def time_skipping_env() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={name: _INDEXED[kind] for name, kind in REGISTRATION.items()},
        )
    )
    return env


# The time-skipping server answers `env.sleep` only once the whole duration is skipped, every timer
# in it fired and each resulting task handled by the test's worker: two hours of a propagating
# run's checks took over the call's 30 s timeout on a busy CI machine (2026-12-03). Steps of ten
# minutes keep each call short; skipped time is the same.
SKIP_STEP = timedelta(minutes=10)


async def skip(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Skip `duration` of the time-skipping server's clock, in steps of at most `SKIP_STEP`."""
    left = duration
    while left > timedelta(0):
        step = min(left, SKIP_STEP)
        await env.sleep(step)
        left -= step


async def dev_server_env() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(ALL_KEYS),
        dev_server_log_level="error",
    )
