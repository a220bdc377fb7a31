"""The exact answers and re-send schedules each channel documents."""

import json

from channels.answers import (
    ALIPAY_RESEND_S,
    WECHAT_RESEND_S,
    alipay_accepted,
    alipay_answer,
    wechat_accepted,
    wechat_answer,
)
from channels.errors import BadSignature, NotConfigured, StaleTimestamp


def test_alipay_success_is_the_seven_bytes_success() -> None:
    answer = alipay_answer()
    assert (answer.status_code, answer.body, answer.media_type) == (200, b"success", "text/plain")
    assert alipay_accepted(answer.body)


def test_an_alipay_failure_is_anything_but_success() -> None:
    answer = alipay_answer(BadSignature("sign is not Alipay's signature over these parameters"))
    assert answer.status_code == 401 and not alipay_accepted(answer.body)
    assert answer.body.startswith(b"fail")


def test_wechat_success_is_204_without_a_body() -> None:
    answer = wechat_answer()
    assert (answer.status_code, answer.body) == (204, b"")
    assert wechat_accepted(204) and wechat_accepted(200) and not wechat_accepted(500)


def test_a_wechat_failure_is_fail_with_the_reason() -> None:
    answer = wechat_answer(StaleTimestamp("Wechatpay-Timestamp 1 is 9 s from our clock"))
    assert answer.status_code == 401 and answer.media_type == "application/json"
    assert json.loads(answer.body) == {
        "code": "FAIL",
        "message": "Wechatpay-Timestamp 1 is 9 s from our clock",
    }


def test_a_channel_without_keys_answers_503() -> None:
    error = NotConfigured("UPGRADE_WECHATPAY_APIV3_KEY is not set")
    assert wechat_answer(error).status_code == 503 == alipay_answer(error).status_code


def test_the_resend_schedules_span_about_a_day() -> None:
    # Alipay: 8 sends (the first and 7 re-sends) over ~25 h; WeChat: 15 re-sends, 24 h 4 min.
    assert len(ALIPAY_RESEND_S) == 7 and sum(ALIPAY_RESEND_S) == 24 * 3600 + 24 * 60
    assert len(WECHAT_RESEND_S) == 15 and sum(WECHAT_RESEND_S) == 24 * 3600 + 4 * 60
