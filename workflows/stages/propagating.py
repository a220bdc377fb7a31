"""Stage `propagating`: generate the media profile (media_quality changes), publish the new config
version, push it to every region in parallel, and check until every region has applied it;
laggards are re-pushed once per propagation window.

- activities: `generate_media_profile` (media_quality), `publish_config_version`, `push_config`
  to every region in parallel, `check_propagation`; `read_apply_latency` (ETA evidence, best
  effort) at the start and alongside each check
- compensation: `rollback_config`
- timeout / retry: forward: 30 s per call, 5 tries, then a durable back-off and again,
  forever; each propagation check: 3 tries, then the next check
- non-retryable errors: —

Past the activation SLA an operator may `retry` (re-push now) or `reject` while the checks go on.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import ConfigActivities
    from domain import steps
    from domain.models import ResolutionAction
    from domain.stages import Stage
    from domain.status import RegionProgress

from workflows import compensation, evidence
from workflows.alarms import Alarm
from workflows.calls import forward, inline, must_complete
from workflows.decisions import take_resolution, wait_for_decision
from workflows.exits import rejected
from workflows.state import RunState
from workflows.visibility import enter, publish

STAGE = Stage.PROPAGATING


async def run(state: RunState) -> None:
    enter(state, STAGE)
    await evidence.at_propagation_start(state)
    order = state.order
    if state.input.media_profile:
        profile = await forward(
            state,
            ConfigActivities.generate_media_profile,
            steps.MediaProfileInput(
                order_id=order.order_id,
                idempotency_key=state.key("generate_media_profile"),
                app_id=order.app_id,
                profile=state.input.media_profile,
            ),
            summary=f"generate {state.input.media_profile} media profile",
        )
        state.media_profile_id = profile.profile_id
    publish_input = steps.PublishConfigInput(
        order_id=order.order_id,
        idempotency_key=state.key("publish_config_version"),
        app_id=order.app_id,
        plan=order.to_plan,
        features=order.features,
        change_kinds=tuple(str(k) for k in state.input.change_kinds),
        media_profile_id=state.media_profile_id,
    )

    async def publish_version() -> steps.PublishConfigResult:
        return await forward(
            state,
            ConfigActivities.publish_config_version,
            publish_input,
            summary="publish the new config version",
        )

    async def rollback() -> steps.CompensationResult:
        # A publish that timed out may still have happened: replaying it with the same
        # idempotency key returns the version it created (or creates it), so the rollback
        # always knows what to undo and nets to zero.
        version = state.config_version
        if version is None and state.safety.cancel_unwinds_publish:
            # Not a forward step: a cancel (or a back-off) must not stop the unwinding itself.
            version = await must_complete(
                state,
                ConfigActivities.publish_config_version,
                publish_input,
                summary="find the config version to roll back (the publish, replayed)",
            )
        elif version is None:
            version = await publish_version()  # runs started before the patch
        return await must_complete(
            state,
            ConfigActivities.rollback_config,
            steps.RollbackConfigInput(
                order_id=order.order_id,
                idempotency_key=state.key("rollback_config"),
                app_id=order.app_id,
                version=version.version,
                previous_version=version.previous_version,
            ),
            summary=f"roll regions back to config v{version.previous_version}",
        )

    compensation.register(state, steps.Activity.PUBLISH_CONFIG_VERSION, rollback)
    state.config_version = await publish_version()
    version = state.config_version.version
    state.regions = {r: RegionProgress(region=r) for r in state.input.regions}
    await _push(state, list(state.input.regions), version)
    if state.clock_free:
        await _until_applied(state, version)
    else:
        await _until_applied_by_the_clock(state, version)
    state.end_stage()


async def _check(state: RunState, version: int, within: timedelta) -> None:
    """Ask which regions applied `version` (waiting up to `within` inside the call)."""
    applied = tuple(r for r, p in state.regions.items() if p.state == "applied")
    # The ETA's evidence, read alongside the check so that it never delays seeing a region apply.
    reading = asyncio.ensure_future(evidence.read_latency(state))
    try:
        check = await _check_call(state, version, within, applied)
    finally:
        await _settle(reading)
    now = workflow.now()
    for region in check.applied:
        if region in state.regions and state.regions[region].state != "applied":
            state.regions[region] = state.regions[region].model_copy(
                update={"state": "applied", "applied_at": now}
            )
    publish(state)


async def _settle(reading: "asyncio.Future[None]") -> None:
    """Let the evidence read finish (it never fails the saga); a cancel ends the saga anyway."""
    try:
        await reading
    except Exception:  # a cancel seen by the read as well: the check's own exception wins
        return


async def _check_call(
    state: RunState, version: int, within: timedelta, applied: tuple[str, ...]
) -> steps.PropagationCheckResult:
    order = state.order
    return await forward(
        state,
        ConfigActivities.check_propagation,
        steps.PropagationCheckInput(
            order_id=order.order_id,
            app_id=order.app_id,
            version=version,
            known_applied=applied,
            wait_s=within.total_seconds(),
        ),
        summary=f"check which regions applied v{version}",
        poll=True,
    )


def _lagging(state: RunState) -> list[str]:
    return [r for r, p in state.regions.items() if p.state != "applied"]


async def _until_applied(state: RunState, version: int) -> None:
    """Check until every region applied; laggards are re-pushed when the window's alarm rings."""
    window = state.policy.propagation
    interval = state.policy.check_interval(window)
    repush = Alarm(workflow.now() + window.latest, "re-push the laggards")
    try:
        while True:
            await _check(state, version, inline(interval))
            lagging = _lagging(state)
            if not lagging:
                return
            if repush.rung:
                # Past the window: push the laggards again and keep waiting. If that does not
                # help, the activation SLA escalation brings a person (retry / reject).
                await _push(state, lagging, version)
                repush = Alarm(workflow.now() + window.latest, "re-push the laggards")
            if not inline(interval):
                await wait_for_decision(state, interval, f"{len(lagging)} regions still applying")
            decision = take_resolution(state)
            if decision is None:
                continue
            if decision.action is ResolutionAction.REJECT:
                raise rejected(decision)
            await _push(state, _lagging(state), version)
            repush.cancel()
            repush = Alarm(workflow.now() + window.latest, "re-push the laggards")
    finally:
        repush.cancel()


async def _until_applied_by_the_clock(state: RunState, version: int) -> None:
    """The same for runs started before the alarms: the window is read off the clock."""
    window = state.policy.propagation
    started = workflow.now()
    next_repush = started + window.latest
    interval = state.policy.check_interval(window)
    while True:
        now = workflow.now()
        await _check(state, version, inline(min(interval, next_repush - now)))
        now = workflow.now()
        lagging = _lagging(state)
        if not lagging:
            break
        if now >= next_repush:
            await _push(state, lagging, version)
            next_repush = now + window.latest
        if not inline(interval):
            await wait_for_decision(state, interval, f"{len(lagging)} regions still applying")
        decision = take_resolution(state)
        if decision is None:
            continue
        if decision.action is ResolutionAction.REJECT:
            raise rejected(decision)
        await _push(state, _lagging(state), version)
        next_repush = workflow.now() + window.latest


async def _push(state: RunState, regions: list[str], version: int) -> None:
    async def push(region: str) -> None:
        progress = state.regions[region]
        pushes = progress.pushes + 1
        result = await forward(
            state,
            ConfigActivities.push_config,
            steps.PushConfigInput(
                order_id=state.order.order_id,
                idempotency_key=state.key(f"push_config:{region}:{pushes}"),
                app_id=state.order.app_id,
                version=version,
                region=region,
            ),
            summary=f"push v{version} to {region}" + (f" (re-push {pushes})" if pushes > 1 else ""),
        )
        applied = result.state == "applied" or state.regions[region].state == "applied"
        state.regions[region] = state.regions[region].model_copy(
            update={"pushes": pushes, "state": "applied" if applied else "pushed"}
        )

    # Wait for every push (a cancel ends them all at once), then surface the first failure.
    outcomes = await asyncio.gather(*(push(r) for r in regions), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
