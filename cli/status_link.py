"""`starter.py status-link ORDER_ID`: the signed, expiring URL of an order's status page, for the
backend to hand to its customer (`--json`: `{"url": ..., "expires_at": ...}`).

Signed here with `UPGRADE_STATUS_LINK_SECRET` (the ingress's own setting: both must hold the same
value), valid `UPGRADE_STATUS_LINK_TTL_S` unless `--ttl` says otherwise, starting with
`UPGRADE_PUBLIC_URL` (or where the ingress listens) unless `--base-url` does. The order must have
an upgrade (asked of Temporal: a link to nothing would only ever answer 404).

Boundary: the command only; the token is `ingress.links`'.
"""

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from cli.inputs import InvalidInput
from cli.output import EXIT_INVALID, EXIT_OK, Output, fail
from ingress import links, runs
from ingress.settings import STATUS_LINK_SECRET_ENV, IngressSettings
from service.settings import settings_error_line
from service.temporal import connect

MAX_TTL_S = 30 * 86_400


def ttl_seconds(text: str) -> float:
    """`--ttl`: seconds, or with a unit: `90m`, `2h`, `7d`."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
    number, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1)
    try:
        value = float(number) * unit
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration (e.g. 3600, 90m, 2h, 7d)"
        ) from None
    if not 0 < value <= MAX_TTL_S:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 second and 30 days")
    return value


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to `starter.py`'s subcommands (`sub`, argparse's private action type)."""
    link = sub.add_parser(
        "status-link",
        parents=[common],
        help="the signed, expiring URL of an order's status page, for the customer",
    )
    link.add_argument("order_id")
    link.add_argument(
        "--ttl", type=ttl_seconds, help="how long the link works [UPGRADE_STATUS_LINK_TTL_S, 24h]"
    )
    link.add_argument("--base-url", help="where customers reach the ingress [UPGRADE_PUBLIC_URL]")
    link.set_defaults(run=cmd_status_link)


async def cmd_status_link(args: argparse.Namespace, out: Output) -> int:
    try:
        settings = IngressSettings()
    except ValidationError as err:
        return fail(f"invalid configuration: {settings_error_line(err)}", EXIT_INVALID)
    if settings.status_link_secret is None:
        return fail(
            f"invalid configuration: {STATUS_LINK_SECRET_ENV} is not set: status links cannot be "
            "signed (set it to the ingress's value)",
            EXIT_INVALID,
        )
    base_url = (args.base_url or settings.base_url()).strip()
    if not base_url.startswith(("http://", "https://")):
        raise InvalidInput("base_url", f"{base_url!r} must start with http:// or https://")
    await runs.describe_run(await connect(), args.order_id)  # UpgradeNotFound: one line, exit 1
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(
        seconds=args.ttl or settings.status_link_ttl_s
    )
    secret = settings.status_link_secret.get_secret_value()
    url = links.status_url(
        base_url, args.order_id, links.make_token(secret, args.order_id, expires_at)
    )
    if out.as_json:
        out.json({"url": url, "expires_at": expires_at.isoformat()})
    else:
        print(url)
    return EXIT_OK
