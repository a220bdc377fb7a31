"""Load on the config service: pushes in flight and the peak hours slow applies down, and the
apply-latency read endpoint reports what a push made now would take (`sandbox.load`)."""

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.catalog import load_catalog
from sandbox import scenarios
from sandbox.app import create_app
from sandbox.load import LoadProfile, parse_peak_hours
from sandbox.settings import SandboxSettings
from sandbox.store import Store
from sandbox.systems.apply_latency import largest_moves
from tests.sandbox.helpers import Api, FakeClock, Sleeps
from tests.sandbox.test_config import VERSIONS, publish_body, push

REGIONS = list(load_catalog().regions)
LATENCY = "/v1/config/apply-latency"
# 09:00 UTC is 17:00 in UTC+8.
PEAK = LoadProfile(peak_hours=(17, 18), peak_factor=2.0)


@pytest.fixture
async def crowded(store: Store, clock: FakeClock, sleeps: Sleeps) -> AsyncIterator[Api]:
    """At 60x, a config service that absorbs only 4 pushes in flight, +25 % for each beyond."""
    load = LoadProfile(free_pushes=4, per_push=0.25)
    app = create_app(store, clock=clock, sleep=sleeps, time_scale=60, load=load)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield Api(http)


@pytest.fixture
async def loaded(store: Store, clock: FakeClock, sleeps: Sleeps) -> AsyncIterator[Api]:
    app = create_app(store, clock=clock, rng=random.Random(1), sleep=sleeps, load=PEAK)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield Api(http)


def test_peak_hours_read_in_utc_plus_8_and_wrap_past_midnight() -> None:
    assert PEAK.is_peak(datetime(2026, 5, 4, 9, 30, tzinfo=UTC))
    assert not PEAK.is_peak(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    night = LoadProfile(peak_hours=parse_peak_hours("22-2"), peak_factor=3.0)
    assert night.is_peak(datetime(2026, 5, 4, 17, 0, tzinfo=UTC))  # 01:00 UTC+8
    assert not night.is_peak(datetime(2026, 5, 4, 19, 0, tzinfo=UTC))  # 03:00
    assert LoadProfile(peak_hours=parse_peak_hours("0-24")).is_peak(datetime.now(UTC))


@pytest.mark.parametrize("text", ["19", "a-b", "3-3", "0-25", "-1-4"])
def test_bad_peak_hours_name_the_problem(text: str) -> None:
    with pytest.raises(ValueError, match="hours"):
        parse_peak_hours(text)


def test_settings_refuse_bad_peak_hours() -> None:
    with pytest.raises(ValueError, match="sandbox_peak_hours"):
        SandboxSettings(sandbox_peak_hours="evening")
    profile = SandboxSettings(sandbox_peak_hours="19-23", sandbox_peak_factor=2).load_profile()
    assert profile.peak_hours == (19, 23) and profile.peak_factor == 2


def test_crowding_slows_down_beyond_the_free_pushes() -> None:
    at = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)
    load = LoadProfile(free_pushes=64, per_push=0.01)
    assert load.factor(64, at) == 1.0
    assert load.factor(164, at) == pytest.approx(2.0)


async def test_a_peak_push_applies_twice_as_slowly(loaded: Api, clock: FakeClock) -> None:
    await loaded.ok(VERSIONS.format("app-1"), publish_body())
    for region in REGIONS:
        await push(loaded, "app-1", 1, region)
    slowest = max(scenarios.propagation_delay("app-1", r, ["plan"], 1.0) for r in REGIONS)
    clock.advance(seconds=slowest.total_seconds())
    url = f"{VERSIONS.format('app-1')}/1/regions"
    assert (await loaded.get(url))["applied"] == []  # off-peak, all would have applied
    clock.advance(seconds=slowest.total_seconds())
    assert (await loaded.get(url))["pending"] == []


async def test_apply_latency_reports_per_kind_under_load(loaded: Api, api: Api) -> None:
    calm = await api.get(LATENCY)
    assert calm["peak"] is False and calm["load_factor"] == 1.0 and calm["pushes_in_flight"] == 0
    plan = calm["kinds"]["plan"]
    assert 15 * 60 < plan["low_s"] < plan["typical_s"] < plan["high_s"] < 22.5 * 60
    assert calm["kinds"]["capability"]["high_s"] < 65 * 60
    assert set(calm["kinds"]) == {"plan", "advanced_permission", "capability", "media_quality"}
    busy = await loaded.get(LATENCY)
    assert busy["peak"] is True and busy["load_factor"] == 2.0
    assert busy["kinds"]["plan"]["high_s"] == pytest.approx(2 * plan["high_s"])


async def test_apply_latency_counts_pushes_in_flight_and_divides_by_the_time_scale(
    crowded: Api, clock: FakeClock
) -> None:
    await crowded.ok(VERSIONS.format("app-1"), publish_body())
    for region in REGIONS:
        await push(crowded, "app-1", 1, region)
    body = await crowded.get(LATENCY)
    assert body["pushes_in_flight"] == 8
    assert body["load_factor"] == pytest.approx(1 + 0.25 * (16 - 4))
    off_peak = scenarios.everywhere_quantile(scenarios.BASIC_PROPAGATION, 0.99, 8)
    expected = off_peak.total_seconds() * body["load_factor"] / 60
    assert body["kinds"]["plan"]["high_s"] == pytest.approx(expected, rel=1e-6)
    clock.advance(seconds=31)  # past the in-flight window (30 min / 60)
    assert (await crowded.get(LATENCY))["pushes_in_flight"] == 0


async def test_apply_latency_reports_how_far_the_load_moved_within_the_callers_horizon(
    crowded: Api, clock: FakeClock
) -> None:
    calm = await crowded.get(LATENCY)
    # Nothing pushed lately: no move (a push now counts its own 8 regions: 2.0).
    assert calm["load_factor_low"] == calm["load_factor_high"] == calm["load_factor"] == 2.0
    await crowded.ok(VERSIONS.format("app-1"), publish_body())
    for region in REGIONS:
        await push(crowded, "app-1", 1, region)
    clock.advance(seconds=20)
    # The burst's pushes got 2.0 each (8 in flight); a push now would get 4.0 (16): the load
    # rose by 2.0 within 20 s, so a push up to a whole window away may see it rise as much.
    busy = await crowded.get(LATENCY)
    assert busy["load_factor"] == pytest.approx(4.0)
    assert busy["load_factor_low"] == pytest.approx(4.0)
    assert busy["load_factor_high"] == pytest.approx(6.0)
    # A push at most 10 s away: no span of 10 s saw the load move.
    soon = await crowded.get(LATENCY, within_s=10)
    assert soon["load_factor_low"] == soon["load_factor_high"] == pytest.approx(4.0)
    clock.advance(seconds=11)  # the burst is out of the in-flight window (30 min / 60)
    later = await crowded.get(LATENCY)
    assert later["load_factor_low"] == later["load_factor_high"] == later["load_factor"] == 2.0
    refused = await crowded.http.get(LATENCY, params={"within_s": -1})
    assert refused.status_code == 422 and "within_s" in refused.text


def test_the_largest_moves_are_those_within_the_span() -> None:
    at = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)
    series = [(at, 3.0), (at + timedelta(seconds=1), 2.0), (at + timedelta(seconds=5), 4.0)]
    assert largest_moves(series, timedelta(seconds=2)) == (1.0, 0.0)
    assert largest_moves(series, timedelta(seconds=10)) == (1.0, 2.0)
    assert largest_moves(series[:1], timedelta(seconds=10)) == (0.0, 0.0)
