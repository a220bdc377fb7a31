"""The customer's status page as HTML: pure functions from an `UpgradeStatus` (and the reader's
language, the time, the link's token, a nonce) to the page, for `ingress.status_page` to serve.

What it says: what was bought, where it is (payment confirmed, billing switched, regions applied
n/N, active), the ETA in plain words (or, honestly, why there is none; `waiting_for` when the
status has it), an open ticket when it is late, a refund, and what to do once active (refresh or
sign in again: media changes need it). The template is package data (`templates/status.html`:
inline style and a few lines of script, no external assets). Every inserted value is escaped
here; words are `ingress.page_text`'s.
"""

import html
import math
from datetime import datetime, timedelta
from importlib import resources
from string import Template
from urllib.parse import quote, urlencode

from domain.moments import clock, day_clock
from domain.progress import regions_applied
from domain.stages import FORWARD_STAGES, Stage
from domain.status import EscalationReason, UpgradeStatus
from domain.steps import Activity
from ingress.event_ids import event_id
from ingress.page_text import HTML_LANG, Language, text, word
from ingress.problems import Kind, ProblemError

_TEMPLATE = Template(
    resources.files("ingress").joinpath("templates/status.html").read_text(encoding="utf-8")
)


def e(value: object) -> str:
    """Escape for HTML text and attribute values (quotes included)."""
    return html.escape(str(value), quote=True)


def _time(moment: datetime, now: datetime) -> str:
    """A UTC time (`13:50 UTC`) the page's script rewrites into the reader's local time with its
    zone (`21:50 GMT+8`); with the day when it is not today's (a corporate transfer's ETA can be
    days away)."""
    other_day = moment.date() != now.date()
    shown = (day_clock(moment) if other_day else clock(moment))[: 11 if other_day else 5]
    flag = "date" if other_day else "time"
    return f'<time datetime="{e(moment.isoformat())}" data-local="{flag}">{e(shown)} UTC</time>'


def duration(delta: timedelta, lang: Language) -> str:
    """A wait for people, in whole minutes rounded up: `40 min`, `2 h 05 min`, `3 d 4 h`."""
    minutes = max(math.ceil(delta.total_seconds() / 60), 1)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    unit = {"en": ("d", "h", "min"), "zh": ("天", "小时", "分钟")}[lang]
    if days:
        return f"{days} {unit[0]} {hours} {unit[1]}"
    if hours:
        return f"{hours} {unit[1]} {mins:02d} {unit[2]}"
    return f"{mins} {unit[2]}"


def _forward_reached(status: UpgradeStatus) -> int:
    reached = [FORWARD_STAGES.index(r.stage) for r in status.stages if r.stage in FORWARD_STAGES]
    return max(reached, default=-1)


def _step(state: str, label: str) -> str:
    return f'<li class="{state}">{e(label)}</li>'


def steps_html(status: UpgradeStatus, lang: Language) -> str:
    """The four milestones, each done, now (in progress) or todo."""
    reached = _forward_reached(status)
    unwound = status.stage in (Stage.COMPENSATING, Stage.FAILED, Stage.CANCELLED, Stage.EXPIRED)

    def state(done: bool, now: bool) -> str:
        if done:
            return "done"
        return "now" if now and not unwound else "todo"

    paid = status.payment.status == "succeeded"
    review = status.payment.status == "under_review"
    billing_at = FORWARD_STAGES.index(Stage.UPDATING_BILLING)
    propagating_at = FORWARD_STAGES.index(Stage.PROPAGATING)
    total = len(status.regions)
    applied = regions_applied(status)
    regions_label = (
        text(lang, "step_regions", applied=str(applied), total=str(total))
        if total
        else text(lang, "step_regions_unknown")
    )
    items = [
        _step(
            state(paid, status.stage is Stage.AWAITING_PAYMENT),
            text(lang, "step_payment_review" if review and not paid else "step_payment"),
        ),
        _step(
            state(reached > billing_at, paid and reached <= billing_at), text(lang, "step_billing")
        ),
        _step(
            state(reached > propagating_at, billing_at < reached <= propagating_at), regions_label
        ),
        _step(
            state(status.stage is Stage.ACTIVE, reached > propagating_at), text(lang, "step_active")
        ),
    ]
    return '<ol class="steps">' + "".join(items) + "</ol>"


def eta_html(status: UpgradeStatus, lang: Language, now: datetime) -> str:
    eta = status.eta
    lines: list[str] = []
    if status.stage is Stage.ACTIVE:
        lines.append(
            e(text(lang, "eta_active", at="\0")).replace("\0", _time(eta.latest or now, now))
        )
    elif status.stage.is_terminal:
        lines.append(e(text(lang, "eta_never")))
    elif eta.late is not None and lang == "en":
        lines.append(e(eta.late))  # the run's own words, as every door shows them
    elif eta.late is not None:
        overdue = duration(timedelta(seconds=eta.overdue_s or 0), lang)
        lines.append(e(text(lang, "eta_overdue", overdue=overdue)))
        if eta.latest is None:
            lines.append(e(text(lang, "eta_none", basis=text(lang, "eta_unknown"))))
        else:
            by = e(text(lang, "eta_by", latest="\0", latest_in=duration(eta.latest - now, lang)))
            lines.append(by.replace("\0", _time(eta.latest, now)))
    elif eta.earliest is None or eta.latest is None:
        lines.append(e(text(lang, "eta_none", basis=word(lang, "basis_", eta.basis))))
    elif eta.latest <= now:
        lines.append(e(text(lang, "eta_passed", latest="\0")).replace("\0", _time(eta.latest, now)))
    elif eta.earliest <= now:
        by = e(text(lang, "eta_by", latest="\0", latest_in=duration(eta.latest - now, lang)))
        lines.append(by.replace("\0", _time(eta.latest, now)))
    else:
        window = e(
            text(
                lang,
                "eta_window",
                earliest="\0",
                latest="\1",
                soonest=duration(eta.earliest - now, lang),
                latest_in=duration(eta.latest - now, lang),
            )
        )
        lines.append(
            window.replace("\0", _time(eta.earliest, now)).replace("\1", _time(eta.latest, now))
        )
    # Not every version of the status has it: the field is shown when the run reports one.
    waiting_for = getattr(status, "waiting_for", None)
    if waiting_for and not status.stage.is_terminal:
        lines.append(e(text(lang, "waiting_for", what=str(waiting_for))))
    return "".join(f"<p>{line}</p>" for line in lines)


def notices_html(status: UpgradeStatus, lang: Language) -> str:
    """Late (an open ticket), a person deciding, a refund: each said once, plainly."""
    parts: list[str] = []  # HTML, escaped
    for escalation in status.escalations:
        if escalation.closed_at is not None or status.stage.is_terminal:
            continue
        key = {
            EscalationReason.ACTIVATION_SLA: "late_ticket",
            EscalationReason.PAYMENT_OVERDUE: "payment_late",
        }.get(escalation.reason)
        if key is not None:
            # A ticket id is never broken across two lines.
            ticket = f'<span class="nowrap">{e(escalation.ticket_id)}</span>'
            parts.append(e(text(lang, key, ticket="\0")).replace("\0", ticket))
    if status.stage is Stage.NEEDS_ATTENTION:
        parts.append(e(text(lang, "attention")))
    refunded = any(
        c.step == Activity.REFUND_PAYMENT and c.outcome == "done" for c in status.compensations
    )
    if refunded:
        parts.append(e(text(lang, "refunded")))
    if not parts:
        return ""
    body = "".join(f"<p>{p}</p>" for p in parts)  # each part escaped above
    return f'<section class="card late"><h2>{e(text(lang, "late"))}</h2>{body}</section>'


def bought_html(status: UpgradeStatus, lang: Language) -> str:
    kinds = ", ".join(word(lang, "kind_", k) for k in status.change_kinds)
    rows = [
        (text(lang, "order"), status.order_id),
        (text(lang, "plan"), status.target_plan),
        (text(lang, "changes"), kinds),
        (text(lang, "paid_with"), word(lang, "method_", status.payment_method)),
    ]
    cells = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
    return f'<section class="card"><h2>{e(text(lang, "bought"))}</h2><dl>{cells}</dl></section>'


def _tone(status: UpgradeStatus) -> str:
    if status.stage is Stage.ACTIVE:
        return "ok"
    if status.stage in (Stage.FAILED, Stage.CANCELLED, Stage.EXPIRED, Stage.COMPENSATING):
        return "bad"
    late = any(x.closed_at is None for x in status.escalations)
    return "late" if late or status.stage is Stage.NEEDS_ATTENTION else "now"


def page_url(order_id: str, token: str, **extra: str) -> str:
    return f"/status/{quote(order_id, safe='')}?" + urlencode({"token": token, **extra})


def render(status: UpgradeStatus, lang: Language, now: datetime, token: str, nonce: str) -> str:
    """The whole page for `status` (every inserted value escaped)."""
    other: Language = "zh" if lang == "en" else "en"
    headline = text(lang, f"stage_{status.stage.value}")
    where = (
        f'<section class="card tone-{_tone(status)}"><h2>{e(text(lang, "where"))}</h2>'
        f'<p class="headline">{e(headline)}</p>{steps_html(status, lang)}</section>'
    )
    eta = f'<section class="card"><h2>{e(text(lang, "eta"))}</h2>{eta_html(status, lang, now)}</section>'
    advice_lines = [text(lang, "advice_text")]
    if "media_quality" in status.change_kinds:
        advice_lines.append(text(lang, "advice_media"))
    if not status.stage.is_terminal:
        advice_lines.append(text(lang, "advice_late"))
    advice = (
        f'<section class="card"><h2>{e(text(lang, "advice"))}</h2>'
        + "".join(f"<p>{e(line)}</p>" for line in advice_lines)
        + "</section>"
    )
    show_advice = status.stage is Stage.ACTIVE or not status.stage.is_terminal
    body = bought_html(status, lang) + where + eta + notices_html(status, lang)
    body += advice if show_advice else ""
    live = not status.stage.is_terminal
    events = f"/v1/upgrades/{quote(status.order_id, safe='')}/events?" + urlencode(
        {"token": token, "last_event_id": event_id(status)}
    )
    switch_url = page_url(status.order_id, token, lang=other)
    switch = f'<a href="{e(switch_url)}" hreflang="{other}">{e(text(lang, "switch"))}</a>'
    return _TEMPLATE.substitute(
        lang=HTML_LANG[lang],
        title=e(text(lang, "title", order_id=status.order_id)),
        nonce=e(nonce),
        events_url=e(events),
        event_id=e(event_id(status)),
        live_flag="1" if live else "0",
        heading=e(text(lang, "heading")),
        switch=switch,
        body=body,
        updated=e(text(lang, "updated", at=clock(status.updated_at)[:8])),
        offline=e(text(lang, "offline")),
        live=e(text(lang, "live" if live else "final")),
    )


def error_page(problem: ProblemError, lang: Language) -> str:
    """A plain page for a link that cannot be opened: what is wrong and what to do."""
    # What is wrong with the link or the setup is the reader's to know; how Temporal failed
    # (addresses, errors) is not a customer's business.
    hidden = problem.kind in (Kind.TEMPORAL_UNAVAILABLE, Kind.TIMEOUT, Kind.INTERNAL)
    said = text(lang, "error_unavailable") if hidden else problem.detail
    detail = f"<p>{e(said)}</p><p>{e(text(lang, 'error_retry'))}</p>"
    return (
        f'<!doctype html><html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{e(text(lang, "error_heading"))}</title>'
        f"</head><body><main><h1>{e(text(lang, 'error_heading'))}</h1>{detail}</main></body></html>"
    )
