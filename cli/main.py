"""`starter.py`'s entry: parse, check the configuration, run the command, map its errors to an
exit code and one line on stderr (0 ok, 2 invalid input, 1 anything else).

Boundary: dispatch and error mapping; each command is in `cli.commands`.
"""

import argparse
import asyncio
from collections.abc import Sequence

from pydantic import TypeAdapter, ValidationError
from temporalio.service import RPCError, RPCStatusCode

from cli.inputs import InvalidInput
from cli.output import EXIT_ERROR, EXIT_INVALID, Output, fail
from cli.parser import build_parser
from client import upgrades
from domain.models import Identifier
from service.settings import load_settings, settings_error_line
from service.temporal import ConnectionSettingsError, connect_config

_ORDER_ID: TypeAdapter[str] = TypeAdapter(Identifier)


async def _dispatch(args: argparse.Namespace) -> int:
    out = Output(args.json)
    try:
        code: int = await args.run(args, out)
        return code
    except InvalidInput as err:
        return fail(f"invalid input: {err}", EXIT_INVALID)
    except ConnectionSettingsError as err:
        return fail(f"invalid connection settings: {err}", EXIT_INVALID)
    except upgrades.MessageRejected as err:
        return fail(
            f"rejected: {err.field}: {err.message.removeprefix(err.field + ': ')}", EXIT_INVALID
        )
    except (upgrades.UpgradeNotFound, upgrades.MessageTimeout) as err:
        return fail(str(err), EXIT_ERROR)
    except RPCError as err:
        if err.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
            # A query (status, follow) of a running upgrade is answered by a worker; with none
            # polling, the server gives up after its own timeout.
            return fail(
                f"no answer from the upgrade's run in time (is a worker running?): {err.message}",
                EXIT_ERROR,
            )
        return fail(
            f"Temporal error: {err.status.name if err.status else ''} {err.message}", EXIT_ERROR
        )
    except RuntimeError as err:  # the SDK's "Failed client connect: ..."
        address = connect_config().get("target_host")
        return fail(f"cannot reach Temporal at {address}: {err}", EXIT_ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        load_settings()  # once up front: a bad UPGRADE_* variable is one line, before any call
    except ValidationError as err:
        return fail(f"invalid configuration: {settings_error_line(err)}", EXIT_INVALID)
    if args.command not in (
        "start",
        "list",
        "audit",
        "held",
        "import-statement",
        "review",
        "account",
    ):
        # Same alphabet as at start: a malformed id is invalid input, not "not found".
        try:
            args.order_id = _ORDER_ID.validate_python(args.order_id)
        except ValidationError as err:
            return fail(f"invalid input: order_id: {err.errors()[0]['msg']}", EXIT_INVALID)
    return asyncio.run(_dispatch(args))
