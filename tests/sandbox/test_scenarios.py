"""Pure tests of the scenario tokens and the delay maths (no app, no store)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import load_catalog
from domain.models import PaymentMethod, PaymentStatus
from sandbox import scenarios
from sandbox.scenarios import Token, has_token

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
CATALOG = load_catalog()
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,30}", fullmatch=True)


@pytest.mark.parametrize(
    ("value", "token", "expected"),
    [
        ("tx-pay-fail-1", Token.PAY_FAIL, True),
        ("TX-PAY-FAIL", Token.PAY_FAIL, True),
        ("pay-fail", Token.PAY_FAIL, True),
        ("txpay-fail1", Token.PAY_FAIL, True),
        ("tx-pay-fai", Token.PAY_FAIL, False),
        ("app-lag", Token.LAG, True),
        ("app.lag:2", Token.LAG, True),
        ("flagship", Token.LAG, True),  # plain containment, as documented
        ("app-la-g", Token.LAG, False),
        ("app-flaky-3", Token.FLAKY, True),
        ("app-nocap", Token.NOCAP, True),
        ("acct-stale-9", Token.ACCT_STALE, True),
        (None, Token.LAG, False),
    ],
)
def test_tokens_match_by_containment(value: str | None, token: Token, expected: bool) -> None:
    assert has_token(value, token) is expected


@given(parts=st.lists(ids, min_size=1, max_size=3))
def test_spread_is_deterministic_and_inside_the_range(parts: list[str]) -> None:
    delays = scenarios.BASIC_PROPAGATION
    first = scenarios.spread(delays, *parts)
    assert first == scenarios.spread(delays, *parts)
    assert delays.earliest <= first <= delays.latest


def test_spread_differs_between_regions() -> None:
    delays = {scenarios.allocation_delay("app-1", r, 1.0) for r in CATALOG.regions}
    assert len(delays) > 1


@pytest.mark.parametrize(
    ("method", "delay"),
    [
        (PaymentMethod.ALIPAY, timedelta(seconds=60)),
        (PaymentMethod.WECHAT_PAY, timedelta(seconds=60)),
        (PaymentMethod.BANK_CARD, timedelta(minutes=5)),
        (PaymentMethod.CORPORATE_TRANSFER, timedelta(hours=24)),
    ],
)
@pytest.mark.parametrize("scale", [1.0, 60.0, 3600.0])
def test_payment_settles_after_the_scaled_method_delay(
    method: PaymentMethod, delay: timedelta, scale: float
) -> None:
    def status(after: timedelta) -> PaymentStatus:
        return scenarios.payment_status(
            "tx-1", method, T0, T0 + after, approved=False, time_scale=scale
        )

    assert status(delay / scale - timedelta(microseconds=1)) is PaymentStatus.PENDING
    assert status(delay / scale) is PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("transaction_id", "approved", "expected"),
    [
        ("tx-pay-fail", False, PaymentStatus.FAILED),
        ("tx-pay-review", False, PaymentStatus.UNDER_REVIEW),
        ("tx-pay-review", True, PaymentStatus.SUCCEEDED),
        ("tx-pay-never", True, PaymentStatus.PENDING),
        ("tx-pay-short", False, PaymentStatus.SUCCEEDED),
    ],
)
def test_payment_tokens_after_the_delay(
    transaction_id: str, approved: bool, expected: PaymentStatus
) -> None:
    later = T0 + timedelta(days=30)
    got = scenarios.payment_status(
        transaction_id, PaymentMethod.ALIPAY, T0, later, approved=approved, time_scale=1.0
    )
    assert got is expected


def test_every_token_is_pending_before_the_delay() -> None:
    for transaction_id in ("tx-pay-fail", "tx-pay-review", "tx-pay-short"):
        got = scenarios.payment_status(
            transaction_id, PaymentMethod.ALIPAY, T0, T0, approved=False, time_scale=1.0
        )
        assert got is PaymentStatus.PENDING


def test_short_payment_reports_one_less_and_overpayment_one_more() -> None:
    assert scenarios.reported_amount("tx-pay-short", Decimal("600.00")) == Decimal("599.00")
    assert scenarios.reported_amount("tx-pay-over", Decimal("600.00")) == Decimal("601.00")
    assert scenarios.reported_amount("tx-1", Decimal("600.00")) == Decimal("600.00")


@pytest.mark.parametrize("from_plan", list(CATALOG.plans))
def test_stale_account_is_never_on_the_order_plan(from_plan: str) -> None:
    assert scenarios.initial_account_plan("acct-1", from_plan, CATALOG) == from_plan
    stale = scenarios.initial_account_plan("acct-stale", from_plan, CATALOG)
    assert stale != from_plan
    assert stale in CATALOG.plans


def test_quota_rules() -> None:
    assert scenarios.quota_rules("pay_as_you_go", (), CATALOG) == "pay_as_you_go"
    assert scenarios.quota_rules("premium", (), CATALOG) == "monthly:premium"
    assert (
        scenarios.quota_rules("premium", ("api.cloud_recording",), CATALOG)
        == "monthly:premium+api.cloud_recording"
    )


@given(app_id=ids, region=st.sampled_from(CATALOG.regions))
def test_propagation_delays_by_slowest_kind(app_id: str, region: str) -> None:
    if has_token(app_id, Token.LAG):
        return
    basic = scenarios.propagation_delay(app_id, region, ["plan", "media_quality"], 1.0)
    advanced = scenarios.propagation_delay(app_id, region, ["plan", "capability"], 1.0)
    assert timedelta(minutes=15) <= basic <= timedelta(minutes=22.5)
    assert timedelta(minutes=50) <= advanced <= timedelta(minutes=65)
    # Scaling divides exactly.
    assert scenarios.propagation_delay(app_id, region, ["plan"], 60.0) == basic / 60


@given(app_id=ids, region=st.sampled_from(CATALOG.regions))
def test_allocation_delays(app_id: str, region: str) -> None:
    delay = scenarios.allocation_delay(app_id, region, 1.0)
    assert timedelta(minutes=10) <= delay <= timedelta(minutes=15)


def test_lag_token_takes_three_hours_everywhere() -> None:
    for region in CATALOG.regions:
        assert scenarios.propagation_delay("app-lag", region, ["plan"], 1.0) == timedelta(hours=3)
        assert scenarios.propagation_delay("app-lag", region, ["plan"], 3600.0) == timedelta(
            seconds=3
        )


def test_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        scenarios.scaled(timedelta(seconds=1), 0)
