"""Resolution of the policy for one order: deadlines, windows, time scale, polling back-off."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.business_days import CHINA_TZ, add_business_days
from domain.models import PaymentMethod
from domain.policy import OrderPolicy, Policy, Window, resolve_policy
from tests.support.factories import make_order

NOW = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
MIN = timedelta(minutes=1)


def minutes(earliest: float, latest: float) -> Window:
    return Window(earliest=timedelta(minutes=earliest), latest=timedelta(minutes=latest))


# --- payment deadline per method ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "deadline"),
    [
        (PaymentMethod.ALIPAY, timedelta(minutes=30)),
        (PaymentMethod.WECHAT_PAY, timedelta(minutes=30)),
        (PaymentMethod.BANK_CARD, timedelta(hours=2)),
    ],
)
def test_payment_deadline_of_fixed_methods(method: PaymentMethod, deadline: timedelta) -> None:
    policy = resolve_policy(make_order(payment_method=method), NOW)
    assert policy.payment_deadline == deadline


def test_corporate_transfer_deadline_is_three_business_days_from_start() -> None:
    policy = resolve_policy(make_order(payment_method="corporate_transfer"), NOW)
    assert policy.payment_deadline == timedelta(days=3)  # Monday → Thursday


def test_corporate_transfer_deadline_spans_the_weekend() -> None:
    thursday = datetime(2026, 3, 5, 10, tzinfo=CHINA_TZ)
    policy = resolve_policy(make_order(payment_method="corporate_transfer"), thursday)
    assert thursday + policy.payment_deadline == datetime(2026, 3, 10, 10, tzinfo=CHINA_TZ)
    assert policy.payment_deadline == timedelta(days=5)


def test_corporate_transfer_deadline_spans_national_day() -> None:
    start = datetime(2026, 9, 30, 2, tzinfo=UTC)  # Sep 30 10:00 Shanghai
    policy = resolve_policy(make_order(payment_method="corporate_transfer"), start)
    assert start + policy.payment_deadline == datetime(2026, 10, 10, 2, tzinfo=UTC)
    assert policy.payment_deadline == timedelta(days=10)


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 3, 6, 9, 15, tzinfo=CHINA_TZ),  # Friday
        datetime(2026, 3, 7, 9, 15, tzinfo=CHINA_TZ),  # Saturday
        datetime(2026, 10, 1, 9, 15, tzinfo=CHINA_TZ),  # National Day
        datetime(2025, 12, 31, 9, 15, tzinfo=CHINA_TZ),  # New Year
    ],
)
def test_corporate_transfer_deadline_is_the_business_day_maths(start: datetime) -> None:
    policy = resolve_policy(make_order(payment_method="corporate_transfer"), start)
    assert start + policy.payment_deadline == add_business_days(start, 3)


def test_corporate_transfer_deadline_is_fixed_at_start_then_scaled() -> None:
    start = datetime(2026, 9, 30, 2, tzinfo=UTC)
    policy = resolve_policy(make_order(payment_method="corporate_transfer"), start, 60)
    assert policy.payment_deadline == timedelta(days=10) / 60


# --- SLA, expiry, windows -----------------------------------------------------------------------


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_sla_and_expiry_do_not_depend_on_the_method(method: PaymentMethod) -> None:
    policy = resolve_policy(make_order(payment_method=method), NOW)
    assert policy.activation_sla == timedelta(hours=2)
    assert policy.payment_expiry == timedelta(days=7)
    assert policy.review_extension == timedelta(days=1)
    assert policy.step == minutes(0, 1)
    assert policy.time_scale == 1.0


@pytest.mark.parametrize(
    ("method", "confirmation", "poll_first", "poll_max"),
    [
        (PaymentMethod.ALIPAY, minutes(0, 5), timedelta(seconds=20), timedelta(minutes=10)),
        (PaymentMethod.WECHAT_PAY, minutes(0, 5), timedelta(seconds=20), timedelta(minutes=10)),
        (PaymentMethod.BANK_CARD, minutes(0, 30), timedelta(minutes=1), timedelta(minutes=20)),
        (
            PaymentMethod.CORPORATE_TRANSFER,
            Window(earliest=timedelta(days=1), latest=timedelta(days=3)),
            timedelta(minutes=10),
            timedelta(hours=1),
        ),
    ],
)
def test_payment_windows_and_polling_per_method(
    method: PaymentMethod,
    confirmation: Window,
    poll_first: timedelta,
    poll_max: timedelta,
) -> None:
    policy = resolve_policy(make_order(payment_method=method), NOW)
    assert policy.payment_confirmation == confirmation
    assert policy.poll_first == poll_first
    assert policy.poll_max == poll_max


@pytest.mark.parametrize(
    ("from_plan", "to_plan", "features", "propagation"),
    [
        ("basic", "premium", (), minutes(15, 30)),  # plan
        ("basic", "basic", ("video.hd_720p",), minutes(15, 30)),  # media_quality
        ("basic", "basic", ("api.traffic_boost",), minutes(60, 120)),  # advanced_permission
        ("basic", "basic", ("ai.conversational_multimodal",), minutes(60, 120)),  # capability
        ("basic", "premium", ("api.cloud_recording",), minutes(60, 120)),  # plan + advanced
        ("basic", "premium", ("video.uhd_4k",), minutes(15, 30)),  # plan + media
    ],
)
def test_propagation_window_is_the_slowest_kind(
    from_plan: str, to_plan: str, features: tuple[str, ...], propagation: Window
) -> None:
    order = make_order(from_plan=from_plan, to_plan=to_plan, features=features)
    assert resolve_policy(order, NOW).propagation == propagation


def test_propagation_picks_the_kind_with_the_latest_end_from_a_custom_policy() -> None:
    policy = Policy(
        propagation={
            "plan": minutes(50, 55),
            "advanced_permission": minutes(1, 2),
            "capability": minutes(1, 2),
            "media_quality": minutes(10, 90),
        }
    )
    order = make_order(features=("video.hd_720p",))  # plan + media_quality
    assert resolve_policy(order, NOW, policy=policy).propagation == minutes(10, 90)


def test_allocation_only_for_capability() -> None:
    plain = resolve_policy(make_order(features=("video.uhd_4k", "api.traffic_boost")), NOW)
    assert plain.allocation is None
    capability = resolve_policy(make_order(features=("ai.conversational_multimodal",)), NOW)
    assert capability.allocation == minutes(10, 30)


def test_client_refresh_only_for_media_quality() -> None:
    plain = resolve_policy(make_order(features=("ai.conversational_multimodal",)), NOW)
    assert plain.client_refresh is None
    media = resolve_policy(make_order(features=("video.hd_720p",)), NOW)
    assert media.client_refresh == minutes(5, 15)


def test_custom_policy_numbers_are_used() -> None:
    policy = Policy(activation_sla=timedelta(hours=4), payment_expiry=timedelta(days=14))
    resolved = resolve_policy(make_order(), NOW, policy=policy)
    assert resolved.activation_sla == timedelta(hours=4)
    assert resolved.payment_expiry == timedelta(days=14)


# --- time scale ---------------------------------------------------------------------------------


def test_time_scale_60_divides_every_duration() -> None:
    order = make_order(
        payment_method="bank_card",
        features=("ai.conversational_multimodal", "video.fhd_1080p"),
    )
    base = resolve_policy(order, NOW)
    fast = resolve_policy(order, NOW, time_scale=60)
    assert fast.time_scale == 60
    assert fast.activation_sla == timedelta(minutes=2)
    assert fast.payment_deadline == timedelta(minutes=2)
    assert fast.payment_expiry == timedelta(days=7) / 60
    assert fast.review_extension == timedelta(minutes=24)
    assert fast.poll_first == timedelta(seconds=1)
    assert fast.poll_max == timedelta(seconds=20)
    assert fast.payment_confirmation == Window(earliest=timedelta(0), latest=timedelta(seconds=30))
    assert fast.propagation == Window(earliest=MIN, latest=2 * MIN)
    assert fast.allocation == Window(earliest=timedelta(seconds=10), latest=timedelta(seconds=30))
    assert fast.client_refresh == Window(
        earliest=timedelta(seconds=5), latest=timedelta(seconds=15)
    )
    assert fast.step == Window(earliest=timedelta(0), latest=timedelta(seconds=1))
    for name in (
        "activation_sla",
        "payment_deadline",
        "payment_expiry",
        "review_extension",
        "poll_first",
        "poll_max",
    ):
        assert getattr(fast, name) == getattr(base, name) / 60, name
    for name in ("payment_confirmation", "propagation", "allocation", "client_refresh", "step"):
        assert getattr(fast, name) == getattr(base, name).scaled(60), name


@pytest.mark.parametrize("scale", [60, 3600])
def test_time_scale_does_not_divide_min_poll_interval(scale: float) -> None:
    policy = resolve_policy(make_order(), NOW, time_scale=scale)
    assert policy.min_poll_interval == Policy().min_poll_interval == timedelta(milliseconds=50)


def test_time_scale_below_one_slows_down() -> None:
    policy = resolve_policy(make_order(), NOW, time_scale=0.5)
    assert policy.activation_sla == timedelta(hours=4)


@pytest.mark.parametrize("scale", [0, -1, -0.001])
def test_non_positive_time_scale_is_refused(scale: float) -> None:
    with pytest.raises(ValueError, match="time_scale"):
        resolve_policy(make_order(), NOW, time_scale=scale)


# --- polling back-off ---------------------------------------------------------------------------


def test_poll_interval_doubles_up_to_poll_max() -> None:
    policy = resolve_policy(make_order(payment_method="alipay"), NOW)
    seconds = [policy.poll_interval(n).total_seconds() for n in range(8)]
    assert seconds == [20, 40, 80, 160, 320, 600, 600, 600]


def test_poll_interval_for_huge_attempt_numbers_stays_at_poll_max() -> None:
    policy = resolve_policy(make_order(payment_method="bank_card"), NOW)
    assert policy.poll_interval(10_000) == timedelta(minutes=20)


@pytest.mark.parametrize("scale", [1, 60, 3600, 86_400])
@pytest.mark.parametrize("method", list(PaymentMethod))
def test_poll_interval_is_clamped_and_never_decreases(method: PaymentMethod, scale: float) -> None:
    policy = resolve_policy(make_order(payment_method=method), NOW, time_scale=scale)
    intervals = [policy.poll_interval(n) for n in range(40)]
    assert intervals == sorted(intervals)
    for interval in intervals:
        assert interval >= policy.min_poll_interval
        assert interval <= max(policy.poll_max, policy.min_poll_interval)


def test_poll_interval_never_goes_below_min_at_high_scale() -> None:
    policy = resolve_policy(make_order(payment_method="alipay"), NOW, time_scale=3600)
    assert policy.poll_first < policy.min_poll_interval
    assert policy.poll_interval(0) == policy.min_poll_interval


def test_check_interval_is_a_tenth_of_the_earliest_end_but_at_least_min() -> None:
    policy = resolve_policy(make_order(), NOW)
    assert policy.check_interval(minutes(15, 30)) == timedelta(seconds=90)
    assert policy.check_interval(minutes(0, 1)) == policy.min_poll_interval


# --- serialisation ------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 7, 60, 3600, 1 / 3])
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"payment_method": "corporate_transfer"},
        {"features": ("ai.conversational_multimodal", "video.uhd_4k")},
    ],
)
def test_order_policy_round_trips_through_json(scale: float, overrides: dict[str, object]) -> None:
    start = datetime(2026, 9, 30, 3, 7, 11, 654321, tzinfo=UTC)
    policy = resolve_policy(make_order(**overrides), start, time_scale=scale)
    restored = OrderPolicy.model_validate_json(policy.model_dump_json())
    assert restored == policy
    assert restored.model_dump_json() == policy.model_dump_json()


def test_order_policy_and_windows_are_frozen() -> None:
    policy = resolve_policy(make_order(), NOW)
    with pytest.raises(ValueError, match="frozen"):
        policy.activation_sla = timedelta(0)  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        policy.step.latest = timedelta(0)  # type: ignore[misc]


def test_window_add_and_scale() -> None:
    assert minutes(1, 2) + minutes(10, 20) == minutes(11, 22)
    assert minutes(60, 120).scaled(60) == Window(earliest=MIN, latest=2 * MIN)
