"""Event ids of the status stream (`ingress.event_ids`): the same status gives the same id (any
process, any restart), every change gives another one whose step never goes down, and the clock
(`updated_at`, an ETA drifting with it) is no change."""

from domain.stages import Stage
from domain.status import (
    Escalation,
    EscalationReason,
    Eta,
    RegionProgress,
    Severity,
    UpgradeStatus,
)
from ingress.event_ids import event_id, step
from tests.support.statuses import REGIONS, at, make_status, records


def propagation(applied: int, pushes: int = 1, ticket: bool = False) -> UpgradeStatus:
    regions = [
        RegionProgress(region=r, state="applied" if i < applied else "pushed", pushes=pushes)
        for i, r in enumerate(REGIONS)
    ]
    escalations = (
        [Escalation(reason=EscalationReason.ACTIVATION_SLA, ticket_id="T-1",
                    severity=Severity.HIGH, stage=Stage.PROPAGATING, opened_at=at(122))]
        if ticket else []
    )  # fmt: skip
    return make_status(regions=regions, escalations=escalations)


def test_the_same_status_has_the_same_id_and_the_clock_is_no_change() -> None:
    status = make_status()
    later = status.model_copy(
        update={"updated_at": at(151), "eta": Eta(earliest=at(151), latest=at(191), basis="x")}
    )
    assert event_id(status) == event_id(make_status()) == event_id(later)


def test_every_change_has_a_new_id_and_the_step_never_goes_down() -> None:
    start = make_status(
        stage=Stage.AWAITING_PAYMENT,
        stages=records((Stage.AWAITING_PAYMENT, 0, None)),
        regions=[],
        escalations=[],
    )
    paid = start.model_copy(update={"payment": start.payment.model_copy(update={"notices": 1})})
    billing = make_status(
        stage=Stage.UPDATING_BILLING,
        stages=records((Stage.AWAITING_PAYMENT, 0, 2), (Stage.UPDATING_BILLING, 2, None)),
        regions=[],
        escalations=[],
    )
    retried = billing.model_copy(
        update={"stages": [billing.stages[0], billing.stages[1].model_copy(
            update={"attempts": 1, "last_error": "503"})]}
    )  # fmt: skip
    sequence = [
        start,
        paid,
        billing,
        retried,
        propagation(0),
        propagation(3),
        propagation(3, pushes=2),
        propagation(3, pushes=2, ticket=True),
        propagation(8, pushes=2, ticket=True),
    ]
    ids = [event_id(s) for s in sequence]
    assert len(set(ids)) == len(ids), ids
    steps = [step(s) for s in sequence]
    assert steps == sorted(steps), steps
    # A new stage record outweighs any progress within the last one (a region reset included).
    assert step(propagation(0)) > step(retried)


def test_an_id_is_a_step_and_a_fingerprint() -> None:
    counter, dot, fingerprint = event_id(make_status()).partition(".")
    assert dot and int(counter) == step(make_status())
    assert len(fingerprint) == 8 and int(fingerprint, 16) >= 0
