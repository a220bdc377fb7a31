"""WeChat Pay API v3 verification against requests signed by wechatpayv3, sealed with AESGCM.

Over ~300 lines on purpose: one test per step of `channels.wechat_pay`'s verification, in its
order, with the signed-request builders they share.
"""

import json
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from wechatpayv3.core import Core

from channels.errors import (
    AmountMismatch,
    BadSignature,
    BodyTooLarge,
    DecryptionFailed,
    ForeignMerchant,
    MalformedNotice,
    StaleTimestamp,
    UnknownSerial,
)
from channels.keys import KeyLoadError
from channels.notices import (
    MAX_FEN,
    MAX_NOTIFY_BYTES,
    ExpectedPayment,
    NoticeKind,
    check_order,
    fen_to_yuan,
    yuan_to_fen,
)
from channels.wechat_pay import WechatPayKeyStore, WechatPayMerchant, WechatPayVerifier
from channels.wechat_pay_signing import WechatPaySender, refund_resource, transaction_resource
from domain.models import PaymentMethod
from tests.channels.conftest import KeyPair
from tests.channels.vectors import (
    APIV3_KEY,
    APPID,
    MCHID,
    NOW,
    PUBLIC_KEY_ID,
    envelope,
    refund,
    transaction,
    wechat_core,
    wechat_headers,
)

ORDER = ExpectedPayment(out_trade_no="tx-0001", amount=Decimal("19.99"))
MERCHANT = WechatPayMerchant(mchid=MCHID, appid=APPID, apiv3_key=SecretStr(APIV3_KEY))


def make_verifier(key: KeyPair, now: float = NOW) -> WechatPayVerifier:
    keys = WechatPayKeyStore.from_settings(public_key=key.public_pem, public_key_id=PUBLIC_KEY_ID)
    return WechatPayVerifier(MERCHANT, keys, clock=lambda: now)


@pytest.fixture(scope="module")
def verifier(channel_key: KeyPair) -> WechatPayVerifier:
    return make_verifier(channel_key)


@pytest.fixture(scope="module")
def core(channel_key: KeyPair) -> Core:
    return wechat_core(channel_key.private_pem, channel_key.public_pem)


def test_a_payment_signed_by_the_sdk_is_paid_for_exactly_its_amount(
    verifier: WechatPayVerifier, core: Core
) -> None:
    body = envelope(transaction())
    notice = verifier.open_notice(wechat_headers(core, body), body)
    assert notice.channel is PaymentMethod.WECHAT_PAY
    assert notice.kind is NoticeKind.PAID
    assert notice.amount == Decimal("19.99") and notice.currency == "CNY"
    assert notice.trade_no == "4200000000202605280000000001"
    assert notice.notice_id == "EV-2018022511223320873"
    assert notice.paid_at == datetime(2026, 5, 28, 2, 0, 4, tzinfo=UTC)
    check_order(notice, ORDER)


def test_header_names_are_case_insensitive(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(transaction())
    headers = {name.lower(): value for name, value in wechat_headers(core, body).items()}
    assert verifier.open_notice(headers, body).kind is NoticeKind.PAID


def test_19_99_is_1999_fen_where_a_float_loses_a_fen(
    verifier: WechatPayVerifier, core: Core
) -> None:
    assert int(19.99 * 100) == 1998  # the trap
    assert yuan_to_fen(Decimal("19.99")) == 1999
    assert fen_to_yuan("amount.total", 1999) == Decimal("19.99")
    # A notice for 1998 fen (a float-converted order) does not pay a 19.99 order.
    body = envelope(transaction(amount={"total": 1998, "currency": "CNY"}))
    notice = verifier.open_notice(wechat_headers(core, body), body)
    with pytest.raises(AmountMismatch, match=r"19\.98 does not match the order's 19\.99"):
        check_order(notice, ORDER)


@pytest.mark.parametrize("total", [19.99, "1999", 1999.0, True, -1, MAX_FEN + 1, None])
def test_a_total_that_is_not_integer_fen_is_malformed(
    verifier: WechatPayVerifier, core: Core, total: object
) -> None:
    body = envelope(transaction(amount={"total": total, "currency": "CNY"}))
    with pytest.raises(MalformedNotice, match=r"amount\.total"):
        verifier.open_notice(wechat_headers(core, body), body)


def test_yuan_sent_as_fen_is_a_wrong_amount(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(transaction(amount={"total": 19, "currency": "CNY"}))
    notice = verifier.open_notice(wechat_headers(core, body), body)
    assert notice.amount == Decimal("0.19")
    with pytest.raises(AmountMismatch):
        check_order(notice, ORDER)


def test_another_currency_is_a_mismatch(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(transaction(amount={"total": 1999, "currency": "USD"}))
    notice = verifier.open_notice(wechat_headers(core, body), body)
    with pytest.raises(AmountMismatch, match="currency USD"):
        check_order(notice, ORDER)


def test_a_tampered_body_breaks_the_signature(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(transaction())
    headers = wechat_headers(core, body)
    tampered = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESS ")
    with pytest.raises(BadSignature, match="not the platform's signature"):
        verifier.open_notice(headers, tampered)


def test_a_foreign_key_under_our_serial_is_refused(
    verifier: WechatPayVerifier, foreign_key: KeyPair
) -> None:
    forger = wechat_core(foreign_key.private_pem, foreign_key.public_pem)
    body = envelope(transaction())
    with pytest.raises(BadSignature):
        verifier.open_notice(wechat_headers(forger, body), body)


def test_a_probe_signature_simply_fails(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(transaction())
    headers = wechat_headers(core, body)
    headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"][19:]
    with pytest.raises(BadSignature):
        verifier.open_notice(headers, body)


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_stale_or_future_timestamp_is_refused(
    verifier: WechatPayVerifier, core: Core, offset: int
) -> None:
    body = envelope(transaction())
    with pytest.raises(StaleTimestamp, match="the limit is 300 s"):
        verifier.open_notice(wechat_headers(core, body, timestamp=NOW + offset), body)


@pytest.mark.parametrize("offset", [-300, 299])
def test_a_timestamp_within_five_minutes_is_fresh(
    verifier: WechatPayVerifier, core: Core, offset: int
) -> None:
    body = envelope(transaction())
    assert verifier.open_notice(wechat_headers(core, body, timestamp=NOW + offset), body)


def test_an_unknown_serial_is_refused_without_any_network_call(
    verifier: WechatPayVerifier, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a network call on the request path")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    body = envelope(transaction())
    headers = wechat_headers(core, body, serial="PUB_KEY_ID_0000000000000000000000000000000099")
    with pytest.raises(UnknownSerial, match="names no key we hold"):
        verifier.open_notice(headers, body)


@pytest.mark.parametrize(
    "header",
    ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"],
)
def test_a_missing_header_is_a_bad_signature(
    verifier: WechatPayVerifier, core: Core, header: str
) -> None:
    body = envelope(transaction())
    headers = wechat_headers(core, body)
    del headers[header]
    with pytest.raises(BadSignature, match=f"the {header} header is missing"):
        verifier.open_notice(headers, body)


def test_another_signature_type_is_refused(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(transaction())
    headers = wechat_headers(core, body)
    headers["Wechatpay-Signature-Type"] = "WECHATPAY2-SM2-WITH-SM3"
    with pytest.raises(BadSignature, match="Signature-Type"):
        verifier.open_notice(headers, body)


def test_a_wrong_apiv3_key_fails_decryption_without_naming_a_key(
    verifier: WechatPayVerifier, core: Core
) -> None:
    other_key = "vutsrqponmlkjihgfedcba9876543210"
    body = envelope(transaction(), key=other_key)
    with pytest.raises(DecryptionFailed) as refused:
        verifier.open_notice(wechat_headers(core, body), body)
    assert APIV3_KEY not in str(refused.value) and other_key not in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value"), [("mchid", "1900000999"), ("appid", "wx0000000000000000")]
)
def test_a_foreign_merchant_is_refused_by_name(
    verifier: WechatPayVerifier, core: Core, field: str, value: str
) -> None:
    body = envelope(transaction(**{field: value}))
    with pytest.raises(ForeignMerchant, match=f"{field} '{value}' is not ours"):
        verifier.open_notice(wechat_headers(core, body), body)


def test_a_full_refund_is_a_refund(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(refund(), event_type="REFUND.SUCCESS")
    notice = verifier.open_notice(wechat_headers(core, body), body)
    assert notice.kind is NoticeKind.REFUND and notice.full_refund
    assert notice.refund_amount == Decimal("19.99") and notice.amount == Decimal("19.99")
    assert notice.refund_id == "50300000000202605280000000001"
    check_order(notice, ORDER)


def test_a_partial_refund_is_a_refund_not_a_failed_payment(
    verifier: WechatPayVerifier, core: Core
) -> None:
    amount = {"total": 1999, "refund": 500, "payer_total": 1999, "payer_refund": 500}
    body = envelope(refund(amount=amount), event_type="REFUND.SUCCESS")
    notice = verifier.open_notice(wechat_headers(core, body), body)
    assert notice.kind is NoticeKind.REFUND and not notice.full_refund
    assert notice.refund_amount == Decimal("5.00")


@pytest.mark.parametrize("status", ["ABNORMAL", "CLOSED"])
def test_a_refund_that_did_not_happen_is_not_a_refund(
    verifier: WechatPayVerifier, core: Core, status: str
) -> None:
    body = envelope(refund(refund_status=status), event_type=f"REFUND.{status}")
    notice = verifier.open_notice(wechat_headers(core, body), body)
    assert notice.kind is NoticeKind.REFUND_FAILED


def test_a_refund_for_a_foreign_mchid_is_refused(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(refund(mchid="1900000999"), event_type="REFUND.SUCCESS")
    with pytest.raises(ForeignMerchant, match="mchid"):
        verifier.open_notice(wechat_headers(core, body), body)


@pytest.mark.parametrize(
    ("state", "kind"),
    [("NOTPAY", NoticeKind.PENDING), ("CLOSED", NoticeKind.CLOSED), ("REFUND", NoticeKind.REFUND)],
)
def test_trade_states_keep_their_meaning(
    verifier: WechatPayVerifier, core: Core, state: str, kind: NoticeKind
) -> None:
    body = envelope(transaction(trade_state=state))
    assert verifier.open_notice(wechat_headers(core, body), body).kind is kind


def test_an_unknown_event_is_malformed(verifier: WechatPayVerifier, core: Core) -> None:
    body = envelope(transaction(), event_type="PROFITSHARING.SUCCESS")
    with pytest.raises(MalformedNotice, match="event_type"):
        verifier.open_notice(wechat_headers(core, body), body)


def test_a_body_that_is_not_json_is_malformed(verifier: WechatPayVerifier, core: Core) -> None:
    body = b"not json"
    with pytest.raises(MalformedNotice, match="not JSON"):
        verifier.open_notice(wechat_headers(core, body), body)


def test_an_oversized_body_is_refused_before_anything_else(verifier: WechatPayVerifier) -> None:
    with pytest.raises(BodyTooLarge):
        verifier.open_notice({}, b" " * (MAX_NOTIFY_BYTES + 1))


def _certificate(key: KeyPair, not_after: datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public)
        .serial_number(0x5157F09EFDC096DE15EBE81A47057A7232F1B8E1)
        .not_valid_before(not_after - timedelta(days=365 * 5))
        .not_valid_after(not_after)
        .sign(key.private, hashes.SHA256())
    )


def test_a_platform_certificate_is_found_by_its_serial(channel_key: KeyPair, core: Core) -> None:
    keys = WechatPayKeyStore()
    keys.add_certificate(_certificate(channel_key, datetime(2030, 1, 1, tzinfo=UTC)))
    verifier = WechatPayVerifier(MERCHANT, keys, clock=lambda: NOW)
    body = envelope(transaction())
    serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    assert verifier.open_notice(wechat_headers(core, body, serial=serial), body)
    assert keys.serials == (serial,)


def test_an_expired_platform_certificate_is_refused(channel_key: KeyPair, core: Core) -> None:
    keys = WechatPayKeyStore()
    keys.add_certificate(_certificate(channel_key, datetime(2026, 1, 1, tzinfo=UTC)))
    verifier = WechatPayVerifier(MERCHANT, keys, clock=lambda: NOW)
    body = envelope(transaction())
    headers = wechat_headers(core, body, serial="5157F09EFDC096DE15EBE81A47057A7232F1B8E1")
    with pytest.raises(UnknownSerial, match="outside its validity"):
        verifier.open_notice(headers, body)


def test_certificates_load_from_a_directory(channel_key: KeyPair, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = _certificate(channel_key, datetime(2030, 1, 1, tzinfo=UTC))
    (tmp_path / "5157F09E.pem").write_bytes(cert.public_bytes(Encoding.PEM))
    keys = WechatPayKeyStore.from_settings(certificate_dir=tmp_path)
    assert len(keys) == 1


def test_a_public_key_needs_its_id_and_a_prefix(channel_key: KeyPair) -> None:
    with pytest.raises(KeyLoadError, match="together"):
        WechatPayKeyStore.from_settings(public_key=channel_key.public_pem)
    with pytest.raises(KeyLoadError, match="PUB_KEY_ID_"):
        WechatPayKeyStore.from_settings(public_key=channel_key.public_pem, public_key_id="KEY1")


def test_the_apiv3_key_must_be_32_bytes_and_never_shows() -> None:
    with pytest.raises(ValidationError, match="32 bytes") as refused:
        WechatPayMerchant(mchid=MCHID, appid=APPID, apiv3_key=SecretStr("short-secret"))
    assert "short-secret" not in str(refused.value)
    assert APIV3_KEY not in repr(MERCHANT) and APIV3_KEY not in str(MERCHANT)


def _sender(key: KeyPair) -> WechatPaySender:
    return WechatPaySender(
        private_key=key.private,
        serial=PUBLIC_KEY_ID,
        apiv3_key=SecretStr(APIV3_KEY),
        clock=lambda: NOW,
    )


def test_our_sending_side_is_accepted_by_the_sdk_and_by_us(
    verifier: WechatPayVerifier, core: Core, channel_key: KeyPair
) -> None:
    resource = transaction_resource(
        mchid=MCHID,
        appid=APPID,
        out_trade_no="tx-0001",
        transaction_id="4200000000202605280000000002",
        amount=Decimal("19.99"),
        success_time=datetime(2026, 5, 28, 10, 0, 4, tzinfo=UTC),
    )
    sent = _sender(channel_key).notification("TRANSACTION.SUCCESS", resource)
    opened = core.callback(sent.headers, sent.body)  # the SDK verifies and decrypts
    assert opened["resource"]["amount"]["total"] == 1999
    notice = verifier.open_notice(sent.headers, sent.body)
    assert notice.kind is NoticeKind.PAID and notice.amount == Decimal("19.99")


def test_our_refund_notice_is_read_as_a_refund(
    verifier: WechatPayVerifier, channel_key: KeyPair
) -> None:
    resource = refund_resource(
        mchid=MCHID,
        out_trade_no="tx-0001",
        transaction_id="4200000000202605280000000002",
        refund_id="503-1",
        out_refund_no="rf-1",
        total=Decimal("19.99"),
        refund=Decimal("0.01"),
        success_time=datetime(2026, 5, 29, tzinfo=UTC),
    )
    sent = _sender(channel_key).notification("REFUND.SUCCESS", resource)
    notice = verifier.open_notice(sent.headers, sent.body)
    assert notice.kind is NoticeKind.REFUND and notice.refund_amount == Decimal("0.01")


@settings(max_examples=40, deadline=None)
@given(fen=st.integers(min_value=1, max_value=MAX_FEN))
def test_any_fen_amount_round_trips_exactly(channel_key: KeyPair, fen: int) -> None:
    amount = Decimal(fen) / 100
    assert yuan_to_fen(amount) == fen and fen_to_yuan("total", fen) == amount
    resource = transaction_resource(
        mchid=MCHID,
        appid=APPID,
        out_trade_no="tx-0001",
        transaction_id="42",
        amount=amount,
        success_time=datetime(2026, 5, 28, tzinfo=UTC),
    )
    sent = _sender(channel_key).notification("TRANSACTION.SUCCESS", resource)
    assert json.loads(json.dumps(resource))["amount"]["total"] == fen
    notice = make_verifier(channel_key).open_notice(sent.headers, sent.body)
    check_order(notice, ExpectedPayment(out_trade_no="tx-0001", amount=amount))


@given(amount=st.decimals(min_value=0, max_value=10**6, places=3).filter(lambda d: d * 100 % 1))
def test_a_third_decimal_never_becomes_fen(amount: Decimal) -> None:
    with pytest.raises(ValueError, match="at most two decimals"):
        yuan_to_fen(amount)
