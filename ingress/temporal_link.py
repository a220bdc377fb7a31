"""The ingress's Temporal client: given (tests) or connected in the background (the process).

The process starts and answers `/healthz` even while Temporal is down; requests that need
Temporal get 503 with Retry-After until the connection is made, and `/readyz` says why. The
client comes from `service.temporal.connect` (envconfig: address, namespace, TLS, API key).
"""

import asyncio
import contextlib
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

import structlog
from temporalio.client import Client
from temporalio.service import RPCError

from ingress.problems import Kind, ProblemError
from service.temporal import connect

log = structlog.get_logger("ingress")

CONNECT_TIMEOUT_S = 5.0
RECONNECT_EVERY_S = 2.0
READINESS_TIMEOUT = timedelta(seconds=2)
RETRY_AFTER_S = "5"


class TemporalLink:
    def __init__(self, client: Client | None = None) -> None:
        self._client = client
        self._last_error = "not connected yet"
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect in the background unless a client was given."""
        if self._client is None and self._task is None:
            self._task = asyncio.create_task(self._connect_until_done())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _connect_until_done(self) -> None:
        while self._client is None:
            try:
                self._client = await asyncio.wait_for(connect(), CONNECT_TIMEOUT_S)
                log.info("connected to temporal", namespace=self._client.namespace)
            except Exception as error:  # refused, DNS, TLS, timeout: all mean "not yet"
                self._last_error = f"{type(error).__name__}: {error}".rstrip(": ")
                log.warning("temporal not reachable yet", error=self._last_error)
                await asyncio.sleep(RECONNECT_EVERY_S)

    def client(self) -> Client:
        """The client, or a 503 problem while there is none."""
        if self._client is None:
            raise ProblemError(
                503,
                Kind.TEMPORAL_UNAVAILABLE,
                f"not connected to Temporal ({self._last_error})",
                headers={"Retry-After": RETRY_AFTER_S},
            )
        return self._client

    async def check_ready(self) -> str:
        """A cheap health RPC with a short timeout; raises a 503 problem when Temporal is down."""
        client = self.client()
        try:
            serving = await client.service_client.check_health(timeout=READINESS_TIMEOUT)
        except Exception as error:
            raise unavailable(error) from error
        if not serving:
            raise ProblemError(
                503, Kind.TEMPORAL_UNAVAILABLE, "Temporal answered but is not serving",
                headers={"Retry-After": RETRY_AFTER_S},
            )  # fmt: skip
        return client.namespace


def unavailable(error: BaseException) -> ProblemError:
    return ProblemError(
        503,
        Kind.TEMPORAL_UNAVAILABLE,
        f"Temporal did not answer ({type(error).__name__}: {error})",
        headers={"Retry-After": RETRY_AFTER_S},
    )


T = TypeVar("T")


async def within(operation: Awaitable[T], timeout_s: float) -> T:
    """Await a Temporal operation for at most `timeout_s`: a timeout is a 504 problem, an RPC
    failure (server down, overloaded) a 503 one. Domain outcomes (not found, rejected) pass."""
    try:
        return await asyncio.wait_for(operation, timeout_s)
    except TimeoutError:
        raise ProblemError(
            504,
            Kind.TIMEOUT,
            f"Temporal did not answer within {timeout_s:g}s; retrying is safe",
            headers={"Retry-After": RETRY_AFTER_S},
        ) from None
    except RPCError as error:
        raise unavailable(error) from error
