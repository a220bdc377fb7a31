"""Short in-activity waits: read again until the answer changes or the wait is over."""

from temporalio.testing import ActivityEnvironment

from activities.waiting import recheck_until


async def _run(answers: list[str], wait_s: float) -> tuple[str, int]:
    reads = 0

    async def read() -> str:
        nonlocal reads
        reads += 1
        return answers[min(reads, len(answers)) - 1]

    async def check() -> str:
        return await recheck_until(read, lambda a: a != "pending", wait_s)

    env = ActivityEnvironment()
    heartbeats: list[object] = []
    env.on_heartbeat = lambda *details: heartbeats.append(details)
    result = await env.run(check)
    return result, reads


async def test_zero_wait_reads_once() -> None:
    assert await _run(["pending", "succeeded"], 0) == ("pending", 1)


async def test_returns_as_soon_as_the_answer_settles() -> None:
    assert await _run(["pending", "pending", "succeeded"], 5) == ("succeeded", 3)


async def test_gives_up_with_the_last_answer_when_the_wait_is_over() -> None:
    result, reads = await _run(["pending"], 0.2)
    assert result == "pending"
    assert reads >= 2  # looked again while waiting
