"""One name per effect: every ledger action is the name of the activity that applies it."""

import httpx
from temporalio import activity

from activities import build_activities
from domain.effects import UNDONE_BY, Effect
from tests.activities.helpers import mock_client


def activity_names() -> set[str]:
    # Never called: only the registered names are read.
    client = mock_client(lambda _: httpx.Response(500))
    names = set()
    for fn in build_activities(client):
        definition = activity._Definition.from_callable(fn)
        assert definition is not None and definition.name is not None
        names.add(definition.name)
    return names


def test_every_effect_action_is_an_activity_name() -> None:
    assert {effect.action for effect in Effect} <= activity_names()


def test_effect_parts() -> None:
    assert Effect.UPDATE_BILLING_PLAN.system == "billing"
    assert Effect.UPDATE_BILLING_PLAN.action == "update_billing_plan"
    assert f"{Effect.ESCALATE.system}/{Effect.ESCALATE.action}" == Effect.ESCALATE


def test_a_compensation_is_never_itself_compensated() -> None:
    assert set(UNDONE_BY).isdisjoint(UNDONE_BY.values())
