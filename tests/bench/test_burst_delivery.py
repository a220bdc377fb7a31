"""The burst's delivery (`bench.scale._deliver`): a notice whose call fails is sent again, as a
channel re-delivers, until the burst's deadline; past it the failure is the run's."""

import asyncio
import time
from typing import Any

import pytest

from bench import scale
from bench.variants import bench_order, notice_for
from client import upgrades
from domain.models import MessageAck, PaymentMethod

ORDER = bench_order("parked-00001", PaymentMethod.CORPORATE_TRANSFER)


def scripted(answers: list[MessageAck | Exception]) -> Any:
    async def confirm_payment(client: Any, notice: Any, *, timeout_s: float) -> MessageAck:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return confirm_payment


async def deliver(deadline: float) -> int:
    return await scale._deliver(
        None,  # type: ignore[arg-type]
        ORDER.order_id,
        notice_for(ORDER),
        asyncio.Semaphore(1),
        deadline,
    )


async def test_a_failed_call_is_sent_again_and_a_duplicate_then_counts_as_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timeout = upgrades.MessageTimeout(ORDER.order_id, 60)
    duplicate = MessageAck(result="duplicate", stage="reconciling", detail="already recorded")
    answers: list[MessageAck | Exception] = [timeout, timeout, duplicate]
    monkeypatch.setattr(upgrades, "confirm_payment", scripted(answers))
    assert await deliver(time.monotonic() + 60) == 3


async def test_past_the_deadline_the_failure_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[MessageAck | Exception] = [upgrades.MessageTimeout(ORDER.order_id, 60)]
    monkeypatch.setattr(upgrades, "confirm_payment", scripted(answers))
    with pytest.raises(upgrades.MessageTimeout):
        await deliver(time.monotonic() - 1)


def test_the_deadline_grows_with_the_burst() -> None:
    assert scale.burst_timeout_s(2_000) > scale.burst_timeout_s(200) >= scale.BURST_BASE_S
