"""`POST /v1/payments/alipay/notify`: Alipay's own asynchronous trade notification.

A form-encoded POST, as Alipay sends it to the merchant's `notify_url`. In order: the door is
configured (503 otherwise, never open), the body is at most 32 KiB (413, unread), the RSA2
signature verifies with Alipay's public key and `app_id`/`seller_id` are ours
(`channels.alipay`); then `ingress.channel_doors` finds the order by `out_trade_no`, checks the
amount and hands the notice on. The answer is exactly what Alipay expects: the 7 bytes
`success` once the notice is durably handled (a re-delivery included; a payment no run can
apply is handled once its custody holds it), otherwise
`fail: <why>` with a 4xx/5xx status, and Alipay re-sends (4m, 10m, 10m, 1h, 2h, 6h, 15h).
"""

import structlog
from fastapi import APIRouter, Request, Response

from channels.answers import alipay_answer
from channels.errors import ChannelError
from ingress.channel_doors import answer_status, fitted, handle, read_body
from ingress.channel_keys import alipay_verifier
from ingress.settings import IngressSettings

log = structlog.get_logger("ingress")
router = APIRouter(tags=["payment channels"])

# A TRADE_SUCCESS notification as Alipay sends it (one line; `sign` shortened here).
EXAMPLE_FORM = (
    "gmt_create=2026-05-28+10%3A00%3A00&charset=utf-8&seller_email=merchant%40example.com"
    "&subject=Plan+upgrade&buyer_id=2088102122524333&invoice_amount=600.00"
    "&notify_id=2026052800222100005000000000001234&fund_bill_list=%5B%7B%22amount%22%3A%22600.00"
    "%22%2C%22fundChannel%22%3A%22ALIPAYACCOUNT%22%7D%5D&notify_type=trade_status_sync"
    "&trade_status=TRADE_SUCCESS&receipt_amount=600.00&app_id=2021000000000001"
    "&buyer_pay_amount=600.00&seller_id=2088000000000001&gmt_payment=2026-05-28+10%3A00%3A04"
    "&notify_time=2026-05-28+10%3A00%3A05&version=1.0&out_trade_no=txn-1"
    "&total_amount=600.00&trade_no=2026052822001400000000000001&auth_app_id=2021000000000001"
    "&point_amount=0.00&sign_type=RSA2&sign=Kb8y0r7...%3D%3D"
)


@router.post(
    "/v1/payments/alipay/notify",
    summary="Receive Alipay's trade notification (its own form, RSA2-signed)",
    description=(
        "Alipay's asynchronous notification for a trade whose `out_trade_no` is an order's "
        "`transaction_id`, verified with `UPGRADE_ALIPAY_PUBLIC_KEY` (RSA2) and checked against "
        "`UPGRADE_ALIPAY_APP_ID` / `UPGRADE_ALIPAY_SELLER_ID` and the order's amount. "
        "`TRADE_SUCCESS`/`TRADE_FINISHED` confirm the payment (idempotently: re-deliveries and "
        "both statuses count once); a refund (`refund_fee` > 0, or `TRADE_CLOSED` with one) is "
        "recorded, never read as a failed payment; `TRADE_CLOSED` without one is a failed "
        "payment. A payment for an `out_trade_no` no upgrade carries, or for another amount, is "
        "held in custody (refunded unless an order claims it) and then answered `success`. "
        "The answer is the plain text `success` once durably handled; anything else "
        "(`fail: <why>`) makes Alipay send it again."
    ),
    response_class=Response,
    responses={
        200: {"description": "Handled", "content": {"text/plain": {"example": "success"}}},
        **{
            status: {
                "description": why,
                "content": {"text/plain": {"example": f"fail: {example}"}},
            }
            for status, why, example in (
                (400, "Not an Alipay notification", "trade_status is missing"),
                (401, "Bad signature", "sign is not Alipay's signature over these parameters"),
                (403, "Another merchant", "app_id '2021999' is not ours ('2021000000000001')"),
                (
                    404,
                    "Unknown out_trade_no, not a payment (a payment is held in custody)",
                    "no upgrade was started with transaction_id 'x'",
                ),
                (
                    409,
                    "Amount differs, not a payment (a payment is held in custody)",
                    "amount 19.98 does not match the order's 19.99",
                ),
                (413, "Body over 32 KiB", "the body exceeds 32768 bytes"),
                (503, "Not configured or not recorded", "not recorded within 4 s; send it again"),
            )
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "additionalProperties": {"type": "string"}},
                    "example": EXAMPLE_FORM,
                }
            },
        }
    },
)
async def alipay_notify(request: Request) -> Response:
    settings: IngressSettings = request.app.state.settings
    try:
        verifier = alipay_verifier(settings)
        notice = verifier.open_notice(await read_body(request))
        handled = await handle(request, notice)
    except ChannelError as error:
        log.warning(
            "alipay notice refused",
            reason=error.reason,
            status=answer_status(error),
            message=error.message,
        )
        answer = fitted(alipay_answer(error), error)
    else:
        log.info(
            "alipay notice handled",
            order_id=handled.order_id,
            notify_id=notice.notice_id,
            trade_no=notice.trade_no,
            trade_status=notice.channel_status,
            outcome=handled.outcome,
        )
        answer = alipay_answer()
    return Response(answer.body, status_code=answer.status_code, media_type=answer.media_type)
