"""The customer's status page (`ingress.status_view`), rendered from statuses built by hand: both
languages, every value escaped, the milestones, the ETA in plain words (and honestly none), the
late notice with its ticket, the advice, and the language choice."""

import re
from html.parser import HTMLParser

import pytest

from domain.stages import Stage
from domain.status import Eta, RegionProgress
from ingress.event_ids import event_id
from ingress.page_text import TEXT, pick_language
from ingress.status_view import render
from tests.support.statuses import (
    REGIONS,
    at,
    cancelled_status,
    make_status,
    needs_attention_status,
)
from tests.support.statuses import records as stage_records

NOW = at(150)
NASTY = '<script>alert("x")</script>&'


class _Collect(HTMLParser):
    """Every start tag and the visible text (outside <style> and <script>)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def parse(page: str) -> _Collect:
    collected = _Collect()
    collected.feed(page)
    return collected


def visible(page: str) -> str:
    return re.sub(r"\s+", " ", "".join(parse(page).text))


def test_the_words_are_the_same_keys_in_both_languages() -> None:
    assert TEXT["en"].keys() == TEXT["zh"].keys()
    for stage in Stage:
        assert f"stage_{stage.value}" in TEXT["en"]


def test_a_late_order_in_english() -> None:
    page = render(make_status(), "en", NOW, "123.sig", "nonce1")
    text = visible(page)
    assert "Applying the new settings in every region" in text
    assert "New settings applied in regions: 5/8" in text
    assert "Payment confirmed" in text and "Billing switched to the new plan" in text
    # The late notice names the ticket; the advice says what to do after activation.
    assert "Our team has been alerted (ticket TCK-00042)" in text
    assert "sign out and in again" in text and "Don't pay again" in text
    # ETA at 11:30 with the window 11:30..12:10: "by 12:10, within about 40 min".
    assert "Expected by 12:10 UTC, within about 40 min." in text
    assert '<html lang="en">' in page
    # Milestones: two done, regions in progress, active to come.
    states = [a["class"] for t, a in parse(page).tags if t == "li"]
    assert states == ["done", "done", "now", "todo"]


def test_the_same_order_in_chinese() -> None:
    page = render(make_status(), "zh", NOW, "123.sig", "nonce1")
    text = visible(page)
    assert '<html lang="zh-CN">' in page
    assert "正在各区域应用新配置" in text and "各区域已应用新配置：5/8" in text
    assert "工单 TCK-00042" in text and "退出后重新登录" in text
    assert "支付宝" in text


def test_an_eta_window_in_the_future_is_said_in_minutes() -> None:
    status = make_status(escalations=[], eta=Eta(earliest=at(160), latest=at(195), basis="x"))
    assert "Expected between 11:40 UTC and 12:15 UTC, in about 10 min to 45 min." in visible(
        render(status, "en", NOW, "t", "n")
    )


def test_a_past_eta_is_said_to_be_late_never_in_the_past() -> None:
    status = make_status(eta=Eta(earliest=at(100), latest=at(140), basis="x"))
    text = visible(render(status, "en", NOW, "t", "n"))
    assert "It is taking longer than estimated (expected by 11:20 UTC)." in text


def test_no_estimate_says_why() -> None:
    text = visible(render(needs_attention_status(), "en", NOW, "t", "n"))
    assert "No estimate is possible right now: a person has to decide first." in text
    assert "A person is checking your order" in text
    zh = visible(render(needs_attention_status(), "zh", NOW, "t", "n"))
    assert "目前无法估计完成时间：需要工作人员先做决定。" in zh
    other = make_status(eta=Eta(earliest=None, latest=None, basis="the platform is slow"))
    assert "No estimate is possible right now: the platform is slow." in visible(
        render(other, "en", NOW, "t", "n")
    )


def test_waiting_for_is_shown_when_the_status_has_it() -> None:
    class WithWaitingFor(type(make_status())):  # type: ignore[misc]
        waiting_for: str | None = None

    status = WithWaitingFor.model_validate(
        make_status().model_dump() | {"waiting_for": "eu-west to apply the config"}
    )
    text = visible(render(status, "en", NOW, "t", "n"))
    assert "Waiting for: eu-west to apply the config" in text


def test_an_active_order() -> None:
    status = make_status(
        stage=Stage.ACTIVE,
        finished_at=at(200),
        change_kinds=["plan", "media_quality"],
        stages=stage_records(
            (Stage.AWAITING_PAYMENT, 0, 2),
            (Stage.UPDATING_BILLING, 3, 5),
            (Stage.PROPAGATING, 5, 190),
            (Stage.ACTIVATING, 190, 195),
            (Stage.NOTIFYING, 195, 200),
            (Stage.ACTIVE, 200, 200),
        ),
        regions=[RegionProgress(region=r, state="applied", pushes=1) for r in REGIONS],
        eta=Eta(earliest=at(200), latest=at(200), basis="activated"),
        escalations=[],
    )
    page = render(status, "en", at(210), "t", "n")
    text = visible(page)
    assert "Active: your upgrade is ready" in text and "Active since 12:20 UTC." in text
    assert "Media quality changes need this" in text
    assert "Final status" in text and "Don't pay again" not in text
    assert 'data-live="0"' in page
    assert [a["class"] for t, a in parse(page).tags if t == "li"] == ["done"] * 4


def test_a_cancelled_order_says_it_was_refunded() -> None:
    text = visible(render(cancelled_status(), "en", at(50), "t", "n"))
    assert "The upgrade was cancelled" in text and "This upgrade will not become active." in text
    assert "Your payment has been refunded." in text
    assert "Once it is active" not in text


def test_everything_inserted_is_escaped() -> None:
    late = make_status().escalations[0].model_copy(update={"ticket_id": "T<i>1"})
    status = make_status(
        escalations=[late],
        order_id="ORD-<b>",
        target_plan=NASTY,
        change_kinds=[NASTY],
        payment_method=NASTY,
        eta=Eta(earliest=None, latest=None, basis=NASTY),
    )
    for language in ("en", "zh"):
        page = render(status, language, NOW, 'tok"><script>', "n")
        assert "<script>alert" not in page and "<b>" not in page and "<i>" not in page
        assert "T&lt;i&gt;1" in page
        assert 'tok"><script>' not in page
        # The only scripts are ours, with the nonce.
        scripts = [a for t, a in parse(page).tags if t == "script"]
        assert scripts == [{"nonce": "n"}]
        assert visible(page).count(NASTY) >= 3  # shown as text, intact


def test_the_live_part_follows_the_event_stream_from_the_current_event() -> None:
    status = make_status()
    page = render(status, "en", NOW, "123.s/g+", "n")
    [main] = [a for t, a in parse(page).tags if t == "main"]
    assert main["data-live"] == "1" and main["data-event-id"] == event_id(status)
    assert main["data-events"] == (
        f"/v1/upgrades/ORD-7/events?token=123.s%2Fg%2B&last_event_id={event_id(status)}"
    )
    [switch] = [a for t, a in parse(page).tags if t == "a"]
    assert switch["href"] == "/status/ORD-7?token=123.s%2Fg%2B&lang=zh"
    assert "http://" not in page and "https://" not in page  # no external assets


@pytest.mark.parametrize(
    ("explicit", "header", "expected"),
    [
        (None, None, "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        (None, "fr-FR, zh-TW;q=0.5, en;q=0.4", "zh"),
        (None, "en;q=0.2, zh;q=0.7", "zh"),
        (None, "zh;q=0, en;q=0.1", "en"),
        (None, "de, fr", "en"),
        (None, "zh;q=abc, en", "en"),
        ("zh", "en", "zh"),
        ("en", "zh-CN", "en"),
        ("xx", "zh-CN", "zh"),
    ],
)
def test_the_language_is_picked_from_the_switch_then_the_browser(
    explicit: str | None, header: str | None, expected: str
) -> None:
    assert pick_language(explicit, header) == expected
