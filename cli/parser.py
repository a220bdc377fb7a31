"""The `starter.py` command line: every command, its arguments and its help.

Boundary: argument syntax only (types, required flags, defaults); what the values mean is
checked by the models (`cli.inputs`), and each command runs in `cli.commands`.
"""

import argparse
from typing import NoReturn

from audit import checks
from cli import account_lease, commands, follow, held, statements, status_link
from cli.output import EXIT_INVALID

DESCRIPTION = "`starter.py`: the CLI a backend script or an operator uses to drive upgrades."
# Long enough for a cancel, which answers once its compensations have run.
DEFAULT_MESSAGE_TIMEOUT_S = 60.0


class _Parser(argparse.ArgumentParser):
    # argparse prints its whole usage on bad input; we promise one line naming the argument.
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: invalid input: {message}\n")


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 86400 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="starter.py", description=DESCRIPTION)
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    # Messages wait for the run's answer; with no worker running there is none.
    message = _Parser(add_help=False)
    message.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_MESSAGE_TIMEOUT_S,
        help="seconds to wait for the run's answer, then exit 1 [%(default)g]",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    start = sub.add_parser("start", parents=[common], help="start the upgrade of a paid order")
    start.add_argument("--order-file", help="the order as a JSON object (instead of the flags)")
    start.add_argument("--order-id")
    start.add_argument("--account-id")
    start.add_argument("--app-id")
    start.add_argument("--from-plan")
    start.add_argument("--to-plan")
    start.add_argument("--feature", action="append", help="an add-on; repeat for several")
    start.add_argument("--payment-method", help="alipay, wechat_pay, bank_card, corporate_transfer")
    start.add_argument("--transaction-id")
    start.add_argument("--amount", help="defaults to the catalog price")
    start.add_argument("--currency", default="CNY")
    start.add_argument("--wait", action="store_true", help="wait until the upgrade ends")
    start.set_defaults(run=commands.cmd_start)

    status = sub.add_parser("status", parents=[common], help="live status and ETA of an order")
    status.add_argument("order_id")
    status.set_defaults(run=commands.cmd_status)

    fol = sub.add_parser(
        "follow", parents=[common], help="live view of an order until its upgrade ends"
    )
    fol.add_argument("order_id")
    fol.add_argument(
        "--interval",
        type=float,
        default=follow.DEFAULT_INTERVAL_S,
        help="seconds between two reads of the status (default 1)",
    )
    fol.set_defaults(run=commands.cmd_follow)

    pay = sub.add_parser(
        "confirm-payment",
        parents=[common, message],
        help="deliver the payment channel's notification",
    )
    pay.add_argument("order_id")
    pay.add_argument("--transaction-id", required=True)
    pay.add_argument("--amount", required=True)
    pay.add_argument("--currency", default="CNY")
    pay.add_argument(
        "--status", default="succeeded", help="succeeded (default), failed or under_review"
    )
    pay.set_defaults(run=commands.cmd_confirm_payment)

    res = sub.add_parser("resolve", parents=[common, message], help="an operator decision")
    res.add_argument("order_id")
    res.add_argument("--action", required=True, help="approve, retry or reject")
    res.add_argument("--note")
    res.add_argument("--operator")
    res.add_argument(
        "--attention-id",
        help="the problem this decision answers (status: attention_id, e.g. "
        "reconciliation_mismatch-1); default: the one waiting now",
    )
    res.set_defaults(run=commands.cmd_resolve)

    can = sub.add_parser(
        "cancel", parents=[common, message], help="cancel before activation (refunds)"
    )
    can.add_argument("order_id")
    can.add_argument("--reason")
    can.set_defaults(run=commands.cmd_cancel)

    status_link.add_parser(sub, common)

    lst = sub.add_parser("list", parents=[common], help="runs matching a visibility query")
    lst.add_argument(
        "--query", help='e.g. "Escalated = true" or "UpgradeStage = \'needs_attention\'"'
    )
    lst.add_argument("--limit", type=int, default=100)
    lst.set_defaults(run=commands.cmd_list)

    aud = sub.add_parser(
        "audit",
        parents=[common],
        help="check that no order was lost, duplicated or left stuck (exit 1 on any violation)",
    )
    aud.add_argument("--since", help="only orders seen at or after this ISO time or age (30m, 2h)")
    aud.add_argument("--order-prefix", help="only orders whose id starts with this")
    aud.add_argument(
        "--slack",
        type=float,
        default=checks.DEFAULT_SLACK.total_seconds(),
        help="wall seconds a run may exceed its expected time (recovery) [%(default)g]",
    )
    aud.add_argument("--platform-url", help="sandbox base URL [UPGRADE_PLATFORM_URL]")
    aud.add_argument("--journal", help="acknowledgement journal [$UPGRADE_DATA_DIR/acks.jsonl]")
    aud.set_defaults(run=commands.cmd_audit)

    acc = sub.add_parser(
        "account", parents=[common], help="which order holds an account and which wait"
    )
    acc.add_argument("account_id")
    acc.set_defaults(run=account_lease.cmd_account)

    hel = sub.add_parser(
        "held", parents=[common], help="payments held by a custody (payment_held tickets)"
    )
    hel.add_argument("custody_id", nargs="?", help="payment-{channel}-{transaction_id}: show one")
    hel.add_argument("--state", choices=held.STATES, help="only custodies in this state")
    hel.add_argument("--limit", type=int, default=100)
    hel.set_defaults(run=held.cmd_held)
    imp = sub.add_parser(
        "import-statement",
        parents=[common],
        help="confirm corporate transfers from a bank statement (CSV); keep the rest for a person",
    )
    imp.add_argument(
        "file", help="UTF-8 CSV: booking_date,amount,currency,payer_name,memo,bank_reference"
    )
    imp.set_defaults(run=statements.cmd_import_statement)

    rev = sub.add_parser(
        "review",
        parents=[common],
        help="statement lines and channel notices kept for a person",
    )
    rev.add_argument("--all", action="store_true", help="matched statement lines too")
    rev.set_defaults(run=statements.cmd_review)
    return parser
