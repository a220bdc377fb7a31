"""One live stack for the whole fault suite (dev server + sandbox + worker on free ports, at
600x), put back in shape before each fault: every process running, the sandbox's fault switch off.

The live modules carry the `faults` marker: `make test` runs them with everything else (about 4
minutes of its run, most of it the 30 s call timeout after which a killed worker's activity is
retried); `make test-faults` runs only them.

The per-fault results (orders run / completed / lost / duplicated) are printed as a table at the
end of the run and written to `.data/fault-results.json`.
"""

from collections.abc import Iterator

import httpx
import pytest

from tests.faults.harness import TIME_SCALE, FaultRecord, records_json, records_table
from tests.support.live_stack import ROOT, LiveStack

RESULTS = ROOT / ".data" / "fault-results.json"
_records: list[FaultRecord] = []


@pytest.fixture(scope="package")  # stopped once the fault suite is done
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("faults"), time_scale=TIME_SCALE)
    try:
        live.start()
        yield live
    finally:
        live.stop()


@pytest.fixture
def records() -> list[FaultRecord]:
    return _records


def _restore(stack: LiveStack) -> None:
    """Every process of the stack up, extra workers gone, the sandbox without faults."""
    for name in [n for n in stack.processes if n.startswith("worker-")]:
        if stack.running(name):
            stack.kill(name)
    if not stack.running("temporal"):
        stack.start_temporal()
        stack.forget_client()
    if not stack.running("sandbox"):
        stack.start_sandbox()
    if not stack.running("worker"):
        stack.start_worker()
    httpx.put(
        f"http://127.0.0.1:{stack.sandbox_port}/v1/sandbox/faults",
        json={"error_rate": 0.0, "latency_ms": 0},
        timeout=10,
    ).raise_for_status()


@pytest.fixture
def healthy(stack: LiveStack) -> Iterator[LiveStack]:
    _restore(stack)
    yield stack
    _restore(stack)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _records:
        return
    terminalreporter.write_sep("=", "fault suite: orders per fault")
    terminalreporter.write_line(records_table(_records))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(records_json(_records), "utf-8")
    terminalreporter.write_line(f"(written to {RESULTS})")
