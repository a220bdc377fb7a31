"""How a route runs its call, and the request parts every route shares.

Three runners, one per kind of call:

- `mutate`  POST with an `Idempotency-Key`: faults, then one store transaction that replays the
            stored answer for a known key or applies the call and stores its answer.
- `read`    GET: faults (never "after": nothing to apply), then a read transaction.
- `admin`   sandbox controls: no faults, no idempotency, never in the ledger.

The `Sandbox` holding them is built once per app (`sandbox.app.create_app`) with an injectable
clock, so tests move time by hand and never wait.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.catalog import Catalog
from sandbox.errors import BadRequest, Unavailable
from sandbox.faults import FaultInjector, Verdict
from sandbox.load import LoadProfile
from sandbox.schemas import ID_PATTERN
from sandbox.store import Store, StoredResponse, Tx, replay_or_apply
from sandbox.systems.call import Call

Clock = Callable[[], datetime]
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Sandbox:
    """Everything a route needs, built once per app."""

    store: Store
    faults: FaultInjector
    clock: Clock
    time_scale: float
    catalog: Catalog
    held_channels: frozenset[str] = frozenset()
    load: LoadProfile = field(default_factory=LoadProfile)

    def _call(self, tx: Tx, now: datetime, key: str | None = None) -> Call:
        return Call(
            tx=tx, now=now, time_scale=self.time_scale, catalog=self.catalog, key=key,
            held_channels=self.held_channels, load=self.load,
        )  # fmt: skip

    async def mutate(
        self,
        request: Request,
        key: str,
        app_ids: Iterable[str | None],
        work: Callable[[Call], BaseModel],
    ) -> JSONResponse:
        verdict = await self.faults.on_call(app_ids, mutating=True)
        if verdict is Verdict.FAIL_BEFORE:
            return _unavailable()
        now = self.clock()
        fingerprint = f"{request.method} {request.url.path}"

        def unit(tx: Tx) -> StoredResponse:
            call = self._call(tx, now, key)
            return replay_or_apply(
                tx,
                key=key,
                fingerprint=fingerprint,
                now=now,
                apply=lambda: work(call).model_dump(mode="json"),
            )

        stored = await self.store.run(unit)
        if verdict is Verdict.FAIL_AFTER:
            return _unavailable()
        headers = {REPLAYED_HEADER: "true"} if stored.replayed else None
        return JSONResponse(stored.body, status_code=stored.status, headers=headers)

    async def read(
        self, app_ids: Iterable[str | None], work: Callable[[Call], BaseModel]
    ) -> JSONResponse:
        if await self.faults.on_call(app_ids, mutating=False) is not Verdict.PASS:
            return _unavailable()
        now = self.clock()
        result = await self.store.run(lambda tx: work(self._call(tx, now)))
        return JSONResponse(result.model_dump(mode="json"))

    async def admin(self, work: Callable[[Call], Any]) -> Any:
        now = self.clock()
        return await self.store.run(lambda tx: work(self._call(tx, now)))


def _unavailable() -> JSONResponse:
    error = Unavailable("injected fault: the platform is unavailable, retry later")
    return JSONResponse(error.body(), status_code=error.status, headers={"Retry-After": "1"})


def get_sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> str:
    # A dependency, so a missing key answers 400 before the body is even validated.
    if key is None or not key.strip():
        raise BadRequest(
            "missing Idempotency-Key header: every mutating call must carry one",
            field="Idempotency-Key",
            type="MissingIdempotencyKey",
        )
    if len(key) > MAX_KEY_LENGTH:
        raise BadRequest(
            f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    return key


SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]
KeyDep = Annotated[str, Depends(idempotency_key)]
PathId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
Version = Annotated[int, Path(ge=1)]
