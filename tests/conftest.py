"""Shared fixtures: one time-skipping server and one dev server per test session (started lazily),
a fresh task queue per test."""

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, settings
from temporalio.testing import WorkflowEnvironment

from tests.support.servers import dev_server_env, time_skipping_env

# Hypothesis profiles for every test that uses it (`HYPOTHESIS_PROFILE`): `default` for
# `make test`, `ci` for a quick pass, `thorough` for a long hunt. No deadline and no "too slow"
# health check: a loaded 2-core machine must not turn its slowness into a failure. Registered
# here, not in one package's conftest, so that a subset of the suite runs with them too.
for _name, _examples in (("default", 150), ("ci", 50), ("thorough", 2000)):
    settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await time_skipping_env()
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await dev_server_env()
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


# The test process uses the Temporal client and worker, and such a process can crash while the
# interpreter tears down (SIGSEGV/SIGABRT, about one run in three here; upstream sdk-python#300),
# after every test has passed and the summary is printed. CI's verdict must be the tests', not
# that race's: once pytest has finished everything, leave with its own exit status.
_exit_status: int | None = None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _exit_status is not None and not hasattr(config, "workerinput"):
        from service.process import exit_now

        exit_now(_exit_status)
