"""Why a payment channel's notification or a bank statement was refused: one tree, one module.

Every refusal is a `ChannelError` whose message names what is wrong (the field, the value the
channel sent, what we expected) and never a secret: no key, no APIv3 key, no private material.
`status` is the HTTP status the ingress answers with; for both channels any answer other than
their success answer makes them re-send, so the status is for people reading logs, not for
the channel.

    ChannelError
    ├── NotConfigured        503  the channel's keys or merchant ids are not set: never open
    ├── NoticeNotRecorded    503  verified, but not durably recorded in time: let it re-send
    ├── BodyTooLarge         413  over the size cap, refused before parsing
    ├── MalformedNotice      400  not the channel's format (missing field, bad amount syntax)
    ├── BadSignature         401  signature missing, undecodable or not the channel's key's
    ├── StaleTimestamp       401  WeChat Pay: the signed timestamp is more than 5 minutes off
    ├── UnknownSerial        401  WeChat Pay: no local key for Wechatpay-Serial (no download)
    ├── DecryptionFailed     400  WeChat Pay: the resource does not open with our APIv3 key
    ├── ForeignMerchant      403  signed, but for another app_id/seller_id/mchid/appid
    ├── UnknownTrade         404  out_trade_no is not the reference of the order it was checked against
    └── AmountMismatch       409  amount or currency differs from the order's

Statement and reference-code errors are plain `ValueError`s with line numbers
(`channels.statement.StatementError`, `channels.reference.InvalidReference`): they come from a file
an operator imports, not from a channel.
"""

from typing import ClassVar


class ChannelError(Exception):
    """A notification refused; `reason` is a stable code, the message says what is wrong."""

    status: ClassVar[int] = 400
    reason: ClassVar[str] = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotConfigured(ChannelError):
    status = 503
    reason = "not_configured"


class NoticeNotRecorded(ChannelError):
    status = 503
    reason = "not_recorded"


class BodyTooLarge(ChannelError):
    status = 413
    reason = "body_too_large"


class MalformedNotice(ChannelError):
    status = 400
    reason = "malformed"


class BadSignature(ChannelError):
    status = 401
    reason = "bad_signature"


class StaleTimestamp(ChannelError):
    status = 401
    reason = "stale_timestamp"


class UnknownSerial(ChannelError):
    status = 401
    reason = "unknown_serial"


class DecryptionFailed(ChannelError):
    status = 400
    reason = "decryption_failed"


class ForeignMerchant(ChannelError):
    status = 403
    reason = "foreign_merchant"


class UnknownTrade(ChannelError):
    status = 404
    reason = "unknown_trade"


class AmountMismatch(ChannelError):
    status = 409
    reason = "amount_mismatch"
