"""`POST /v1/payments/wechat_pay/notify`: WeChat Pay API v3's own payment and refund notifications.

A JSON envelope with the `Wechatpay-*` headers. In order: the door is configured (503
otherwise), the body is at most 32 KiB (413, unread), the timestamp is within 5 minutes, the
key named by `Wechatpay-Serial` is one we hold (no download), the SHA256withRSA signature over
`timestamp\\nnonce\\nbody\\n` verifies (WeChat's deliberate probe signatures fail here, as
WeChat expects), the resource opens with our APIv3 key (AES-256-GCM) and `mchid`/`appid` are
ours (`channels.wechat_pay`); then `ingress.channel_doors` finds the order by `out_trade_no`,
checks the amount (integer fen, exact) and hands the notice on. The answer is 204 without a body
once durably handled (a payment no run can apply: once its custody holds it), otherwise a
4xx/5xx with `{"code": "FAIL", "message": ...}`, and WeChat re-sends (15s, 15s, 30s, 3m, ... 6h).
"""

import structlog
from fastapi import APIRouter, Request, Response

from channels.answers import wechat_answer
from channels.errors import ChannelError
from ingress.channel_doors import answer_status, fitted, handle, read_body
from ingress.channel_keys import wechat_pay_verifier
from ingress.settings import IngressSettings

log = structlog.get_logger("ingress")
router = APIRouter(tags=["payment channels"])

EXAMPLE_ENVELOPE = {
    "id": "EV-2018022511223320873",
    "create_time": "2026-05-28T10:00:05+08:00",
    "resource_type": "encrypt-resource",
    "event_type": "TRANSACTION.SUCCESS",
    "summary": "支付成功",
    "resource": {
        "original_type": "transaction",
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": "Wn3vS1o2...(base64 of the sealed transaction)...",
        "associated_data": "transaction",
        "nonce": "fdasflkja484",
    },
}
HEADERS_DOC = (
    "Headers: `Wechatpay-Timestamp` (Unix seconds), `Wechatpay-Nonce`, `Wechatpay-Signature` "
    "(base64 SHA256withRSA over `timestamp\\nnonce\\nbody\\n`), `Wechatpay-Serial` "
    "(`UPGRADE_WECHATPAY_PUBLIC_KEY_ID` or a platform certificate serial), "
    "`Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048`."
)


# Refusals with an example message each (the status is WeChat's signal to re-send).
FAILURES = (
    (400, "Malformed, or the resource does not decrypt", "resource does not decrypt with our "
     "APIv3 key (another key, or altered)"),
    (401, "Bad signature, stale timestamp or unknown serial", "Wechatpay-Timestamp 1780000000 is "
     "900 s from our clock; the limit is 300 s"),
    (403, "Another merchant", "mchid '1900000999' is not ours ('1900000109')"),
    (404, "Unknown out_trade_no, not a payment (a payment is held in custody)",
     "no upgrade was started with transaction_id 'x' (yet)"),
    (409, "Amount differs, not a payment (a payment is held in custody)",
     "amount 19.98 does not match the order's 19.99"),
    (413, "Body over 32 KiB", "the body exceeds 32768 bytes"),
    (503, "Not configured, or not recorded in time", "not recorded within 4 s; send it again"),
)  # fmt: skip


@router.post(
    "/v1/payments/wechat_pay/notify",
    status_code=204,
    summary="Receive WeChat Pay's v3 notification (its own signed, encrypted envelope)",
    description=(
        "WeChat Pay API v3's notification for a transaction whose `out_trade_no` is an order's "
        "`transaction_id`, verified with the platform key named by `Wechatpay-Serial`, "
        "decrypted with `UPGRADE_WECHATPAY_APIV3_KEY` and checked against "
        "`UPGRADE_WECHATPAY_MCHID` / `UPGRADE_WECHATPAY_APPID` and the order's amount "
        "(`amount.total` in fen). `TRANSACTION.SUCCESS` confirms the payment idempotently; "
        "`REFUND.*` is recorded, never read as a failed payment; `CLOSED`, `REVOKED` and "
        "`PAYERROR` are a failed payment. A payment for an `out_trade_no` no upgrade carries, or "
        "for another amount, is held in custody (refunded unless an order claims it), then "
        f"answered 204. {HEADERS_DOC} The answer is 204 once durably "
        'handled; anything else is `{"code": "FAIL", "message": ...}` and WeChat sends it again.'
    ),
    response_class=Response,
    responses={
        204: {"description": "Handled"},
        **{
            status: {
                "description": why,
                "content": {"application/json": {"example": {"code": "FAIL", "message": message}}},
            }
            for status, why, message in FAILURES
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"example": EXAMPLE_ENVELOPE}},
        }
    },
)
async def wechat_pay_notify(request: Request) -> Response:
    settings: IngressSettings = request.app.state.settings
    try:
        verifier = wechat_pay_verifier(settings)
        notice = verifier.open_notice(dict(request.headers), await read_body(request))
        handled = await handle(request, notice)
    except ChannelError as error:
        log.warning(
            "wechat pay notice refused",
            reason=error.reason,
            status=answer_status(error),
            message=error.message,
        )
        answer = fitted(wechat_answer(error), error)
    else:
        log.info(
            "wechat pay notice handled",
            order_id=handled.order_id,
            notification_id=notice.notice_id,
            transaction_id=notice.trade_no,
            status=notice.channel_status,
            outcome=handled.outcome,
        )
        answer = wechat_answer()
    return Response(answer.body, status_code=answer.status_code, media_type=answer.media_type)
