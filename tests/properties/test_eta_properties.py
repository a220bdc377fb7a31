"""The ETA is never in the past: whatever the stage, the time spent in it, the evidence and the
regions applied, `latest` is None (no honest estimate) or not before now, and a late stage always
says so in words (`domain.eta.revise`)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.eta import EtaFacts, revise
from domain.policy import resolve_policy
from domain.stages import FORWARD_STAGES, Stage
from tests.properties.counts import tally
from tests.support.factories import make_order
from tests.support.fakes import fake_latency

NOW = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
STAGES = [s for s in FORWARD_STAGES if s not in (Stage.ALLOCATING_RESOURCES, Stage.ACTIVE)]


@given(
    stage=st.sampled_from(STAGES),
    spent_s=st.floats(min_value=0, max_value=10 * 86_400, allow_nan=False),
    factor=st.one_of(st.none(), st.floats(min_value=0.5, max_value=20, allow_nan=False)),
    applied=st.integers(min_value=0, max_value=8),
    method=st.sampled_from(["alipay", "bank_card", "corporate_transfer"]),
    scale=st.sampled_from([1.0, 60.0, 3600.0]),
)
def test_latest_is_never_before_now_and_lateness_is_never_silent(
    stage: Stage, spent_s: float, factor: float | None, applied: int, method: str, scale: float
) -> None:
    tally("eta never in the past")
    policy = resolve_policy(make_order(payment_method=method), NOW, scale)
    facts = EtaFacts(
        stage=stage,
        stage_started_at=NOW - timedelta(seconds=spent_s),
        change_kinds=("plan",),
        latency=None if factor is None else fake_latency(factor, time_scale=scale),
        regions_applied=applied if stage is Stage.PROPAGATING else 0,
        regions_total=8 if stage is Stage.PROPAGATING else 0,
    )
    eta = revise(policy, method, facts, NOW)
    assert eta.earliest is not None and eta.earliest >= NOW
    assert eta.latest is None or eta.latest >= eta.earliest
    if eta.latest is None:
        assert eta.no_estimate and eta.late and "No estimate is possible" in eta.late
    if eta.overdue_s is not None:
        assert eta.late is not None and eta.late.startswith("Late: ")
