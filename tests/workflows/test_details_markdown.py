"""The Web UI's current details of a run: short lines an operator reads in half a page."""

from datetime import timedelta

from tests.statuses import at, cancelled_status, make_status, needs_attention_status
from workflows.details import details_markdown


def test_a_lagging_run_says_stage_regions_eta_and_the_open_ticket() -> None:
    lines = details_markdown(make_status()).splitlines()
    assert lines[0] == "**Stage:** `propagating` · regions 5/8 applied"
    assert lines[1] == "**ETA:** 11:30:00 – 12:10:00 UTC"
    assert lines[2].startswith("_based on: config propagation 15 min-30 min (running 2.42 h")
    assert lines[3] == (
        "**Escalation:** `activation_sla` (high), ticket TCK-00042, opened 11:02:00 in "
        "`propagating`, **open**"
    )
    assert "**Stages** (UTC, run started 2026-11-24 09:00:00)" in lines
    assert "✓ `updating_billing` 09:03:00 → 09:05:00 (2m00s)" in lines
    assert "▶ `propagating` 09:05:00 → now (running)" in lines
    assert "· ahead: `activating` → `notifying` → `active`" in lines
    assert "**Regions:** 5/8 applied" in lines
    assert "- pushed, not applied yet (3): eu-west ×2, us-east ×2, us-west ×2" in lines
    assert "- applied (5): cn-north, cn-east, cn-south, ap-southeast, ap-northeast" in lines
    # No wide tables: the UI wraps their cells into unreadable columns.
    assert not any(line.startswith("|") for line in lines)


def test_needs_attention_names_the_refusal_and_the_command_that_answers_it() -> None:
    text = details_markdown(needs_attention_status())
    assert "**ETA:** none — waiting for an operator decision" in text
    assert "**Needs attention:** `capacity_refused` since 09:04:00: no capacity for " in text
    assert "**Answer:** `starter.py resolve ORD-7 --action approve|retry|reject`" in text
    assert (
        "✗ `allocating_resources` 09:03:00 → left (interrupted) · 1 failed attempt: "
        "no capacity in eu-west"
    ) in text
    assert "◇ `needs_attention` 09:04:00 → now (waiting for operator)" in text
    assert "· ahead: `propagating` → `activating` → `notifying` → `active`" in text


def test_a_cancelled_run_lists_its_compensations_and_the_rollback() -> None:
    text = details_markdown(cancelled_status())
    assert text.startswith("**Stage:** `cancelled` — the customer changed their mind\n")
    assert "regions 0/8" not in text.splitlines()[0]  # a closed run: no progress in the title
    assert "**Cancel requested" not in text  # said by the stage itself once cancelled
    assert "**Regions:** 0/8 applied, then all rolled back at 09:31:00" in text
    assert "- pushed, not applied (8): cn-north, cn-east," in text  # no "yet": the run is over
    assert "- `refund_payment`: done at 09:33:00 (600.00 CNY)" in text
    assert "■ `cancelled` 09:40:00" in text and "ahead" not in text


def test_a_run_over_several_days_dates_the_times_off_its_first_day() -> None:
    status = make_status()
    late = status.eta.model_copy(
        update={"earliest": at(0) + timedelta(days=3), "latest": at(0) + timedelta(days=3, hours=2)}
    )
    text = details_markdown(status.model_copy(update={"eta": late}))
    assert "**ETA:** 11-27 09:00:00 – 11-27 11:00:00 UTC" in text
