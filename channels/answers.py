"""The exact answers each channel expects, framework-free (the ingress wraps them in a Response).

Alipay: the plain text `success` (7 bytes, no quotes, no JSON) once the notice is durably
handled, a repeat included; anything else makes it re-send (4m, 10m, 10m, 1h, 2h, 6h, 15h).
WeChat Pay: 204 without a body once handled (200 also counts); otherwise a 4xx/5xx with
`{"code": "FAIL", "message": ...}`, and it re-sends (15s ... 6h, about 24 h in all).

A failure's text is the error's message, which names the problem and never a secret.
"""

import json

from channels.errors import ChannelError
from domain.frozen import StrictFrozen

ALIPAY_SUCCESS = b"success"
ALIPAY_FAILURE = b"fail"
WECHAT_FAIL_CODE = "FAIL"
# Re-send intervals as each channel documents them (the sandbox divides them by its time scale).
ALIPAY_RESEND_S = (4 * 60, 10 * 60, 10 * 60, 3600, 2 * 3600, 6 * 3600, 15 * 3600)
_H = 3600
WECHAT_RESEND_S = (
    15,
    15,
    30,
    180,
    600,
    1200,
    1800,
    1800,
    1800,
    _H,
    3 * _H,
    3 * _H,
    3 * _H,
    6 * _H,
    6 * _H,
)


class ChannelAnswer(StrictFrozen):
    """An HTTP answer: status, body bytes, media type."""

    status_code: int
    body: bytes
    media_type: str | None = None


def alipay_answer(error: ChannelError | None = None) -> ChannelAnswer:
    """`success` (200, text/plain) when handled; `fail: <why>` with the error's status otherwise."""
    if error is None:
        return ChannelAnswer(status_code=200, body=ALIPAY_SUCCESS, media_type="text/plain")
    body = ALIPAY_FAILURE + b": " + error.message.encode("utf-8")
    return ChannelAnswer(status_code=error.status, body=body, media_type="text/plain")


def wechat_answer(error: ChannelError | None = None) -> ChannelAnswer:
    """204 without a body when handled; the error's status and `{"code": "FAIL", ...}` otherwise."""
    if error is None:
        return ChannelAnswer(status_code=204, body=b"")
    body = json.dumps({"code": WECHAT_FAIL_CODE, "message": error.message}, ensure_ascii=False)
    return ChannelAnswer(
        status_code=error.status, body=body.encode("utf-8"), media_type="application/json"
    )


def alipay_accepted(answer_body: bytes) -> bool:
    """The sender's view (sandbox): did the merchant answer as Alipay requires?"""
    return answer_body == ALIPAY_SUCCESS


def wechat_accepted(status_code: int) -> bool:
    """The sender's view (sandbox): 200 or 204 means handled; anything else is re-sent."""
    return status_code in (200, 204)
