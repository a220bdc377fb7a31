"""One source of words (issue 14): a late run's `Eta.late`, written once by the run, is shown as
is by every door: the Web UI details, `starter.py status` and `follow` (view and plain line), the
ingress's JSON and the English status page; the Chinese page says the same facts."""

import io

from rich.console import Console

from cli import follow_view
from cli.output import Output, print_status
from domain.stages import Stage
from domain.status import Eta
from ingress.event_ids import event_id
from ingress.status_view import render
from tests.support.statuses import at, make_status
from workflows.details import details_markdown

LATE = (
    "Late: config propagation is 2.08 h past its typical window. A person is on ticket "
    "TCK-00042 (activation_sla, opened 2026-11-24 11:02:00 UTC). No estimate is possible: 5 of 8 "
    "regions applied after 2.42 h; the platform's current apply latency (at most 22.5 min) does "
    "not explain the delay, so nothing tells when the rest apply."
)
ETA = Eta(
    earliest=at(152),
    latest=None,
    basis="config propagation 15 min-30 min (running 2.42 h, past its typical window)",
    overdue_s=125 * 60,
    overdue_stage=Stage.PROPAGATING,
    ticket_id="TCK-00042",
    attention_id="activation_sla-1",
    looking_at="a person is on ticket TCK-00042 (activation_sla, opened 2026-11-24 11:02:00 UTC)",
    evidence="5 of 8 regions applied; platform apply latency x1 (8 pushes in flight)",
    no_estimate="5 of 8 regions applied after 2.42 h; the platform's current apply latency (at "
    "most 22.5 min) does not explain the delay, so nothing tells when the rest apply",
    late=LATE,
)
STATUS = make_status(eta=ETA)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_every_door_shows_the_same_late_words() -> None:
    assert LATE in flat(details_markdown(STATUS).replace("**Late:**", "Late:"))
    console = Console(file=io.StringIO(), width=400, record=True, color_system=None)
    console.print(follow_view.render(STATUS, STATUS.updated_at, ""))
    assert LATE in flat(console.export_text())
    assert repr(LATE) in follow_view.status_line(STATUS)
    out = Output(as_json=False)
    out.console = Console(file=io.StringIO(), width=400, record=True, color_system=None)
    print_status(out, STATUS)
    assert LATE in flat(out.console.export_text())
    assert STATUS.model_dump(mode="json")["eta"]["late"] == LATE  # the ingress's JSON
    page = render(STATUS, "en", at(150), "1.sig", "n")
    assert LATE.replace("'", "&#x27;") in flat(page)


def test_the_chinese_page_says_how_late_and_that_no_estimate_is_possible() -> None:
    page = render(STATUS, "zh", at(150), "1.sig", "n")
    assert "这一步已比通常多用了 2 小时 05 分钟。" in page
    assert "目前无法估计完成时间" in page


def test_becoming_late_is_a_change_for_follow_and_the_event_stream() -> None:
    on_time = make_status(eta=ETA.model_copy(update={"overdue_s": None, "latest": at(190)}))
    later = on_time.model_copy(update={"eta": on_time.eta.model_copy(update={"latest": at(191)})})
    assert follow_view.change_key(on_time) == follow_view.change_key(later)
    assert follow_view.change_key(on_time) != follow_view.change_key(STATUS)
    assert event_id(on_time) == event_id(later) != event_id(STATUS)
