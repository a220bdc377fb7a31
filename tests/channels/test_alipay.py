"""Alipay notification verification against notifications signed by python-alipay-sdk."""

from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode

import pytest
from alipay import AliPay
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.alipay import (
    BEIJING,
    AlipayMerchant,
    AlipayVerifier,
    parse_form,
    signing_string,
)
from channels.alipay_signing import encode_notification, trade_notification
from channels.errors import (
    AmountMismatch,
    BadSignature,
    BodyTooLarge,
    ForeignMerchant,
    MalformedNotice,
    UnknownTrade,
)
from channels.notices import MAX_NOTIFY_BYTES, ExpectedPayment, NoticeKind, check_order
from domain.models import PaymentMethod
from tests.channels.conftest import KeyPair
from tests.channels.vectors import APP_ID, SELLER_ID, alipay_body, alipay_params, alipay_sdk

ORDER = ExpectedPayment(out_trade_no="tx-0001", amount=Decimal("19.99"))


@pytest.fixture(scope="module")
def verifier(channel_key: KeyPair) -> AlipayVerifier:
    return AlipayVerifier(AlipayMerchant(app_id=APP_ID, seller_id=SELLER_ID), channel_key.public)


@pytest.fixture(scope="module")
def sdk(channel_key: KeyPair) -> AliPay:
    return alipay_sdk(channel_key.private_pem, channel_key.public_pem)


def test_a_payment_signed_by_the_sdk_is_paid_for_exactly_its_amount(
    verifier: AlipayVerifier, sdk: AliPay
) -> None:
    notice = verifier.open_notice(alipay_body(sdk, alipay_params()))
    assert notice.channel is PaymentMethod.ALIPAY
    assert notice.kind is NoticeKind.PAID
    assert notice.amount == Decimal("19.99") and notice.currency == "CNY"
    assert notice.trade_no == "2026052822001400000000000001"
    assert notice.out_trade_no == "tx-0001"
    assert notice.notice_id == "ac05099524730693a8b330c5ecf72da9786"
    assert notice.paid_at == datetime(2026, 5, 28, 10, 0, 4, tzinfo=BEIJING)
    assert notice.refund_amount is None
    check_order(notice, ORDER)


def test_trade_finished_is_paid_too(verifier: AlipayVerifier, sdk: AliPay) -> None:
    body = alipay_body(sdk, alipay_params(trade_status="TRADE_FINISHED"))
    assert verifier.open_notice(body).kind is NoticeKind.PAID


def test_an_old_redelivery_is_still_accepted(verifier: AlipayVerifier, sdk: AliPay) -> None:
    # Alipay re-sends for ~25 h with the same notify_id: no freshness rule applies.
    body = alipay_body(sdk, alipay_params(notify_time="2024-01-01 00:00:00"))
    assert verifier.open_notice(body).kind is NoticeKind.PAID


def test_a_tampered_amount_breaks_the_signature(verifier: AlipayVerifier, sdk: AliPay) -> None:
    body = alipay_body(sdk, alipay_params()).replace(b"total_amount=19.99", b"total_amount=0.01")
    with pytest.raises(BadSignature, match="not Alipay's signature"):
        verifier.open_notice(body)


def test_a_foreign_key_is_refused(verifier: AlipayVerifier, foreign_key: KeyPair) -> None:
    forger = alipay_sdk(foreign_key.private_pem, foreign_key.public_pem)
    with pytest.raises(BadSignature):
        verifier.open_notice(alipay_body(forger, alipay_params()))


def test_empty_parameters_are_left_out_of_the_signing_string(
    verifier: AlipayVerifier, sdk: AliPay
) -> None:
    # Alipay signs without empty values; the SDK's own verify would keep them and fail.
    body = alipay_body(sdk, alipay_params(), unsigned_suffix="&passback_params=&body=")
    assert verifier.open_notice(body).kind is NoticeKind.PAID


def test_the_signing_string_is_the_documented_one() -> None:
    params = {
        "trade_status": "TRADE_SUCCESS",
        "sign": "abc",
        "sign_type": "RSA2",
        "app_id": "2015102700040153",
        "body": "",
        "subject": "大乐透2.1",
        "total_amount": "2.00",
    }
    assert signing_string(params) == (
        "app_id=2015102700040153&subject=大乐透2.1&total_amount=2.00&trade_status=TRADE_SUCCESS"
    )


@pytest.mark.parametrize(
    ("field", "value"), [("app_id", "2021999999999999"), ("seller_id", "2088999")]
)
def test_a_foreign_merchant_is_refused_by_name(
    verifier: AlipayVerifier, sdk: AliPay, field: str, value: str
) -> None:
    body = alipay_body(sdk, alipay_params(**{field: value}))
    with pytest.raises(ForeignMerchant, match=f"{field} '{value}' is not ours"):
        verifier.open_notice(body)


def test_a_wrong_amount_is_refused_against_the_order(verifier: AlipayVerifier, sdk: AliPay) -> None:
    notice = verifier.open_notice(alipay_body(sdk, alipay_params(total_amount="19.98")))
    with pytest.raises(AmountMismatch, match=r"amount 19\.98 does not match the order's 19\.99"):
        check_order(notice, ORDER)


def test_another_trade_is_refused_against_the_order(verifier: AlipayVerifier, sdk: AliPay) -> None:
    notice = verifier.open_notice(alipay_body(sdk, alipay_params(out_trade_no="tx-other")))
    with pytest.raises(UnknownTrade, match="'tx-other'"):
        check_order(notice, ORDER)


def test_yuan_text_is_exact_and_a_whole_amount_is_accepted(
    verifier: AlipayVerifier, sdk: AliPay
) -> None:
    notice = verifier.open_notice(alipay_body(sdk, alipay_params(total_amount="20")))
    assert notice.amount == Decimal("20.00")
    check_order(notice, ExpectedPayment(out_trade_no="tx-0001", amount=Decimal("20")))


@pytest.mark.parametrize("amount", ["19.999", "1e3", "-19.99", " 19.99", "19,99", "0x10", "NaN"])
def test_an_amount_that_is_not_yuan_is_malformed(
    verifier: AlipayVerifier, sdk: AliPay, amount: str
) -> None:
    with pytest.raises(MalformedNotice, match="total_amount"):
        verifier.open_notice(alipay_body(sdk, alipay_params(total_amount=amount)))


def test_a_partial_refund_is_a_refund_not_a_failed_payment(
    verifier: AlipayVerifier, sdk: AliPay
) -> None:
    params = alipay_params(refund_fee="5.00", out_biz_no="rf-1", gmt_refund="2026-05-29 10:00:00")
    notice = verifier.open_notice(alipay_body(sdk, params))
    assert notice.kind is NoticeKind.REFUND
    assert notice.refund_amount == Decimal("5.00") and not notice.full_refund
    assert notice.refund_id == "rf-1"
    assert notice.amount == Decimal("19.99")  # the trade's total: still the order's amount
    check_order(notice, ORDER)


def test_a_full_refund_closes_the_trade_and_is_a_refund(
    verifier: AlipayVerifier, sdk: AliPay
) -> None:
    params = alipay_params(trade_status="TRADE_CLOSED", refund_fee="19.99", out_biz_no="rf-1")
    notice = verifier.open_notice(alipay_body(sdk, params))
    assert notice.kind is NoticeKind.REFUND
    assert notice.full_refund and notice.refund_amount == Decimal("19.99")


def test_a_trade_closed_unpaid_is_closed(verifier: AlipayVerifier, sdk: AliPay) -> None:
    params = alipay_params(trade_status="TRADE_CLOSED")
    del params["gmt_payment"]
    notice = verifier.open_notice(alipay_body(sdk, params))
    assert notice.kind is NoticeKind.CLOSED and notice.paid_at is None


def test_a_zero_refund_fee_on_a_payment_is_a_payment(verifier: AlipayVerifier, sdk: AliPay) -> None:
    # Alipay's documented payment example carries refund_fee=0.00.
    notice = verifier.open_notice(alipay_body(sdk, alipay_params(refund_fee="0.00")))
    assert notice.kind is NoticeKind.PAID and notice.refund_amount is None


def test_a_refund_above_the_total_is_malformed(verifier: AlipayVerifier, sdk: AliPay) -> None:
    with pytest.raises(MalformedNotice, match="exceeds"):
        verifier.open_notice(alipay_body(sdk, alipay_params(refund_fee="20.00")))


def test_only_rsa2_is_accepted(verifier: AlipayVerifier, sdk: AliPay) -> None:
    body = alipay_body(sdk, alipay_params()).replace(b"sign_type=RSA2", b"sign_type=RSA")
    with pytest.raises(BadSignature, match="only RSA2"):
        verifier.open_notice(body)


def test_a_missing_sign_is_a_bad_signature(verifier: AlipayVerifier, channel_key: KeyPair) -> None:
    body = encode_notification(alipay_params(), channel_key.private)
    stripped = "&".join(p for p in body.decode().split("&") if not p.startswith("sign="))
    with pytest.raises(BadSignature, match="missing"):
        verifier.open_notice(stripped.encode())


def test_a_repeated_parameter_is_malformed(verifier: AlipayVerifier, sdk: AliPay) -> None:
    body = alipay_body(sdk, alipay_params(), unsigned_suffix="&total_amount=0.01")
    with pytest.raises(MalformedNotice, match="more than once"):
        verifier.open_notice(body)


def test_an_unknown_trade_status_is_malformed(verifier: AlipayVerifier, sdk: AliPay) -> None:
    with pytest.raises(MalformedNotice, match="trade_status 'TRADE_PAID'"):
        verifier.open_notice(alipay_body(sdk, alipay_params(trade_status="TRADE_PAID")))


def test_another_charset_is_refused(verifier: AlipayVerifier, sdk: AliPay) -> None:
    with pytest.raises(MalformedNotice, match="charset 'gbk'"):
        verifier.open_notice(alipay_body(sdk, alipay_params(charset="gbk")))


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"a=1&&b", b"no-equals-sign"])
def test_a_body_that_is_not_a_form_is_malformed(verifier: AlipayVerifier, body: bytes) -> None:
    with pytest.raises(MalformedNotice):
        verifier.open_notice(body)


def test_an_oversized_body_is_refused_before_parsing() -> None:
    with pytest.raises(BodyTooLarge):
        parse_form(b"a" * (MAX_NOTIFY_BYTES + 1))


def test_our_signing_side_is_accepted_by_the_sdk_and_by_us(
    verifier: AlipayVerifier, sdk: AliPay, channel_key: KeyPair
) -> None:
    params = trade_notification(
        app_id=APP_ID,
        seller_id=SELLER_ID,
        out_trade_no="tx-0001",
        trade_no="2026052822001400000000000009",
        total_amount=Decimal("19.99"),
        notify_id="n-1",
        notify_time=datetime(2026, 5, 28, 10, 0, 5, tzinfo=BEIJING),
        gmt_payment=datetime(2026, 5, 28, 10, 0, 4, tzinfo=BEIJING),
    )
    body = encode_notification(params, channel_key.private)
    received = dict(parse_qsl(body.decode()))
    sign = received.pop("sign")
    assert sdk.verify(received, sign)  # the SDK pops sign_type itself
    notice = verifier.open_notice(body)
    assert notice.kind is NoticeKind.PAID and notice.amount == Decimal("19.99")


_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20
)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_parameter_change_breaks_the_signature(
    channel_key: KeyPair, data: st.DataObject
) -> None:
    verifier = AlipayVerifier(
        AlipayMerchant(app_id=APP_ID, seller_id=SELLER_ID), channel_key.public
    )
    params = alipay_params()
    body = encode_notification(params, channel_key.private)
    field = data.draw(st.sampled_from(sorted(params)))
    value = data.draw(_TEXT.filter(lambda v: v != params[field]))
    received = dict(parse_qsl(body.decode()))
    received[field] = value
    with pytest.raises(BadSignature):
        verifier.open_notice(urlencode(received).encode())


@settings(max_examples=30, deadline=None)
@given(key=st.from_regex(r"[a-z_]{1,12}", fullmatch=True), value=_TEXT)
def test_any_added_parameter_breaks_the_signature(
    channel_key: KeyPair, key: str, value: str
) -> None:
    verifier = AlipayVerifier(
        AlipayMerchant(app_id=APP_ID, seller_id=SELLER_ID), channel_key.public
    )
    params = alipay_params()
    received = dict(parse_qsl(encode_notification(params, channel_key.private).decode()))
    if key in received:
        return
    received[key] = value
    with pytest.raises(BadSignature):
        verifier.open_notice(urlencode(received).encode())
