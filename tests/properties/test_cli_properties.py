"""Property-based bad input for `starter.py`: generated bad flags, order files and message
arguments always exit 2 with exactly one line on stderr naming the field, print nothing on
stdout, and never try to reach Temporal (connect is a tripwire, and Temporal's address is closed
so a real attempt would be exit 1). Thousands of cases in-process; a sample as real processes."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.properties.cli import (
    CLOSED_ADDRESS,
    CliRun,
    has_nul,
    names_field,
    order_file_text,
    run_in_process,
    run_subprocess,
    start_argv,
)
from tests.properties.counts import tally
from tests.properties.strategies import (
    Bad,
    bad_amounts,
    bad_identifiers,
    bad_orders,
    identifiers,
    too_long_text,
    unknown_names,
)

FILES = Path(tempfile.mkdtemp(prefix="cli-props-"))


@pytest.fixture(autouse=True, scope="module")
def closed_temporal() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TEMPORAL_ADDRESS", CLOSED_ADDRESS)
        env.delenv("UPGRADE_ENCRYPTION_KEYS", raising=False)
        yield


def assert_refused(run: CliRun, field: str) -> None:
    lines = run.stderr.splitlines()
    assert run.code == 2, (run.code, run.stderr[:500])
    assert len(lines) == 1, lines[:5]
    assert names_field(lines[0], field), (field, lines[0][:300])
    assert run.stdout == ""
    assert run.connects == 0


bad_start_flags = (
    bad_orders().map(lambda bad: (bad, start_argv(bad))).filter(lambda pair: pair[1] is not None)
)


@given(bad_start_flags)
def test_bad_start_flags_exit_2_naming_the_field(pair: tuple[Bad, list[str]]) -> None:
    tally("cli in-process: start flags")
    bad, argv = pair
    assert_refused(run_in_process(argv), bad.field)


@given(bad_orders())
def test_bad_order_files_exit_2_naming_the_field(bad: Bad) -> None:
    tally("cli in-process: order files")
    path = FILES / "order.json"
    path.write_text(order_file_text(bad), "utf-8")
    assert_refused(run_in_process(["start", "--order-file", str(path)]), bad.field)


not_an_object = st.one_of(
    st.text(max_size=50).filter(lambda s: not s.strip().startswith(("{", "[", '"'))),
    st.lists(st.integers(), max_size=3).map(str),
    st.integers().map(str),
    st.just('"a string"'),
    st.just(""),
)


@given(not_an_object)
def test_order_files_that_are_not_one_json_object_exit_2(text: str) -> None:
    tally("cli in-process: malformed order files")
    path = FILES / "malformed.json"
    path.write_text(text, "utf-8")
    assert_refused(run_in_process(["start", "--order-file", str(path)]), "order_file")


bad_id_text = bad_identifiers.filter(lambda v: isinstance(v, str) and len(v) < 5000)

message_cases = st.one_of(
    st.tuples(st.sampled_from(["status", "cancel"]), bad_id_text).map(
        lambda t: ([t[0], "--", t[1]], "order_id")
    ),
    bad_id_text.map(lambda v: (["resolve", "--action=retry", "--", v], "order_id")),
    unknown_names.filter(lambda s: s not in ("approve", "retry", "reject")).map(
        lambda v: (["resolve", "O1", f"--action={v}"], "action")
    ),
    too_long_text(500).map(lambda v: (["resolve", "O1", "--action=approve", f"--note={v}"], "note")),
    st.text(min_size=65, max_size=200).map(
        lambda v: (["resolve", "O1", "--action=reject", f"--operator={v}"], "operator")
    ),
    too_long_text(500).map(lambda v: (["cancel", "O1", f"--reason={v}"], "reason")),
    bad_amounts.filter(lambda v: not isinstance(v, (bool, list)) and v is not None).map(
        lambda v: (["confirm-payment", "O1", "--transaction-id=t1", f"--amount={v}"], "amount")
    ),
    bad_id_text.map(
        lambda v: (["confirm-payment", "O1", f"--transaction-id={v}", "--amount=1"], "transaction_id")
    ),
    st.text(max_size=6).filter(lambda s: not (len(s) == 3 and s.isascii() and s.isupper())).map(
        lambda v: (["confirm-payment", "O1", "--transaction-id=t", "--amount=1", f"--currency={v}"],
                   "currency")
    ),
    unknown_names.filter(lambda s: s not in ("succeeded", "failed", "under_review")).map(
        lambda v: (["confirm-payment", "O1", "--transaction-id=t", "--amount=1", f"--status={v}"],
                   "status")
    ),
    identifiers.map(lambda v: (["confirm-payment", v, "--amount=1"], "transaction")),
)  # fmt: skip


@given(message_cases)
def test_bad_message_arguments_exit_2_naming_the_field(case: tuple[list[str], str]) -> None:
    tally("cli in-process: status/resolve/cancel/confirm-payment")
    argv, field = case
    assert_refused(run_in_process(argv), field)


@settings(max_examples=12)
@given(st.one_of(bad_start_flags.map(lambda p: (p[1], p[0].field)), message_cases))
def test_bad_input_as_real_processes_exits_2_with_one_line(case: tuple[list[str], str]) -> None:
    argv, field = case
    if has_nul(argv):  # a command line cannot carry NUL
        return
    tally("cli subprocess: mixed bad input")
    run = run_subprocess(argv)
    lines = run.stderr.splitlines()
    assert run.code == 2, (run.code, run.stderr[:500])
    assert len(lines) == 1 and names_field(lines[0], field), lines[:5]
    assert run.stdout == ""
