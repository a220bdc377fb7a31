"""The sandbox's HTTP app: the platform contract (`docs/platform-api.md`) assembled from the
routers of `sandbox.routes`, their error answers and a health check.

`create_app` takes the settings (serving) or an open `Store` (tests) plus an injectable clock,
random generator and sleep, so tests move time by hand and never wait.
"""

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from domain.catalog import load_catalog
from sandbox import notifier
from sandbox.channel_signers import NotifierSettings
from sandbox.faults import FaultInjector, Sleep
from sandbox.load import LoadProfile
from sandbox.routes import ROUTERS
from sandbox.routes.calls import Clock, Sandbox, utc_now
from sandbox.routes.errors import install_error_answers
from sandbox.schemas import HealthOut
from sandbox.settings import SandboxSettings
from sandbox.store import Store


def create_app(
    config: SandboxSettings | Store,
    *,
    clock: Clock = utc_now,
    rng: random.Random | None = None,
    sleep: Sleep | None = None,
    time_scale: float | None = None,
    load: LoadProfile | None = None,
) -> FastAPI:
    """Build the sandbox app.

    `config`: the settings (the store opens under `settings.data_dir` and is closed at shutdown,
    the time scale comes from `settings.time_scale`) or an already open `Store` owned by the
    caller (tests; time scale 1 unless given). `load`: the config service's load knobs
    (default: from the settings, or `LoadProfile()` with a store).
    """
    if isinstance(config, SandboxSettings):
        store, owned = Store.in_dir(config.data_dir), True
        scale = time_scale if time_scale is not None else config.time_scale
        load = load if load is not None else config.load_profile()
    else:
        store, owned = config, False
        scale = time_scale if time_scale is not None else 1.0
    if scale <= 0:
        raise ValueError("time_scale must be > 0")
    faults = FaultInjector(rng, sleep) if sleep is not None else FaultInjector(rng)
    sandbox = Sandbox(
        store=store,
        faults=faults,
        clock=clock,
        time_scale=scale,
        catalog=load_catalog(),
        load=load or LoadProfile(),
    )
    channels = _channel_notifier(store, clock, scale) if owned else None
    if channels is not None:
        sandbox.held_channels = channels.channels

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(channels.run_forever()) if channels is not None else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if owned:
            store.close()

    app = FastAPI(
        title="Upgrade Activation platform sandbox",
        version="1",
        description="The simulated company platform; contract in docs/platform-api.md.",
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    for router in ROUTERS:
        app.include_router(router)
    install_error_answers(app)

    @app.get("/healthz")
    async def healthz() -> HealthOut:
        return HealthOut(status="ok", time_scale=scale)

    return app


def _channel_notifier(store: Store, clock: Clock, scale: float) -> notifier.ChannelNotifier | None:
    """The Alipay / WeChat Pay notifier when `UPGRADE_SANDBOX_NOTIFY_URL` and keys are set."""
    settings = NotifierSettings()
    signers = settings.signers()
    if not signers or settings.sandbox_notify_url is None:
        return None
    notifier.install(store)
    return notifier.ChannelNotifier(
        store, signers, settings.sandbox_notify_url, clock=clock, time_scale=scale
    )


__all__ = ["create_app"]
