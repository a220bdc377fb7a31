"""What the benchmark reads off processes, files and histories; and the statistics it reports.

- a process's CPU seconds (user + system, its threads included) and resident memory (psutil);
- the dev server's database size (the SQLite file plus its write-ahead log);
- from fetched histories: events per run, and each workflow task's latency (the server's
  WorkflowTaskStarted → WorkflowTaskCompleted timestamps: the worker's processing of the task,
  replay included when the run was not cached, plus one gRPC round trip);
- percentiles (nearest rank) and medians with min/max.

Boundary: reading and arithmetic only; no process is started and no workflow driven here.
"""

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


class ProcessProbe:
    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)

    def cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def rss_bytes(self) -> int:
        return int(self._process.memory_info().rss)


def db_bytes(db: Path) -> int:
    """The database file plus its write-ahead log (what the data occupies before a checkpoint)."""
    return sum(path.stat().st_size for path in (db, Path(f"{db}-wal")) if path.exists())


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


@dataclass(frozen=True)
class Spread:
    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> "Spread":
        items = list(values)
        return cls(statistics.median(items), min(items), max(items))


@dataclass(frozen=True)
class HistoryStats:
    events_per_run: float
    task_latencies_ms: list[float]
    activities_per_run: float


async def history_stats(client: Client, workflow_ids: Sequence[str]) -> HistoryStats:
    events: list[int] = []
    activities: list[int] = []
    latencies: list[float] = []
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        events.append(len(history.events))
        started_at: float | None = None
        scheduled = 0
        for event in history.events:
            at = event.event_time.ToNanoseconds() / 1e6
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                started_at = at
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                if started_at is not None:
                    latencies.append(at - started_at)
                started_at = None
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                scheduled += 1
        activities.append(scheduled)
    return HistoryStats(
        events_per_run=statistics.fmean(events),
        task_latencies_ms=latencies,
        activities_per_run=statistics.fmean(activities),
    )
