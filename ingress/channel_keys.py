"""The channels' verifiers built from the settings, once per app: a door without its keys stays shut.

`alipay_verifier(settings)` and `wechat_pay_verifier(settings)` return the `channels` verifier
for our merchant, or raise `NotConfigured` (503) naming every variable still missing: a channel
with half its configuration refuses every notice instead of accepting unverified ones.

Boundary: configuration only; verifying is `channels.alipay` / `channels.wechat_pay`.
"""

from functools import cache
from pathlib import Path

from pydantic import SecretStr

from channels.alipay import AlipayMerchant, AlipayVerifier
from channels.errors import NotConfigured
from channels.keys import load_public_key
from channels.wechat_pay import WechatPayKeyStore, WechatPayMerchant, WechatPayVerifier
from ingress.settings import IngressSettings

ALIPAY_ENV = ("UPGRADE_ALIPAY_APP_ID", "UPGRADE_ALIPAY_SELLER_ID", "UPGRADE_ALIPAY_PUBLIC_KEY")
WECHATPAY_ENV = (
    "UPGRADE_WECHATPAY_MCHID",
    "UPGRADE_WECHATPAY_APPID",
    "UPGRADE_WECHATPAY_APIV3_KEY",
)
WECHATPAY_KEYS_ENV = (
    "UPGRADE_WECHATPAY_PUBLIC_KEY (with UPGRADE_WECHATPAY_PUBLIC_KEY_ID) "
    "or UPGRADE_WECHATPAY_CERTIFICATE_DIR"
)


def _shut(channel: str, missing: list[str]) -> NotConfigured:
    return NotConfigured(
        f"{', '.join(missing)} not set on the server: {channel} notifications are refused "
        "until they are"
    )


def alipay_verifier(settings: IngressSettings) -> AlipayVerifier:
    values = (settings.alipay_app_id, settings.alipay_seller_id, settings.alipay_public_key)
    missing = [name for name, value in zip(ALIPAY_ENV, values, strict=True) if not value]
    if missing:
        raise _shut("Alipay", missing)
    return _alipay(settings.alipay_app_id, settings.alipay_seller_id, settings.alipay_public_key)


# Cached on the values: building a verifier parses keys; settings do not change while serving.
@cache
def _alipay(app_id: str | None, seller_id: str | None, public_key: str | None) -> AlipayVerifier:
    assert app_id and seller_id and public_key
    merchant = AlipayMerchant(app_id=app_id, seller_id=seller_id)
    return AlipayVerifier(merchant, load_public_key(public_key, "UPGRADE_ALIPAY_PUBLIC_KEY"))


def wechat_pay_verifier(settings: IngressSettings) -> WechatPayVerifier:
    values = (settings.wechatpay_mchid, settings.wechatpay_appid, settings.wechatpay_apiv3_key)
    missing = [name for name, value in zip(WECHATPAY_ENV, values, strict=True) if not value]
    has_key = settings.wechatpay_public_key and settings.wechatpay_public_key_id
    if not has_key and settings.wechatpay_certificate_dir is None:
        missing.append(WECHATPAY_KEYS_ENV)
    if missing:
        raise _shut("WeChat Pay", missing)
    assert settings.wechatpay_mchid and settings.wechatpay_appid and settings.wechatpay_apiv3_key
    return _wechat_pay(
        settings.wechatpay_mchid,
        settings.wechatpay_appid,
        settings.wechatpay_apiv3_key,
        settings.wechatpay_public_key if has_key else None,
        settings.wechatpay_public_key_id if has_key else None,
        settings.wechatpay_certificate_dir,
    )


@cache
def _wechat_pay(
    mchid: str,
    appid: str,
    apiv3_key: SecretStr,
    public_key: str | None,
    public_key_id: str | None,
    certificate_dir: Path | None,
) -> WechatPayVerifier:
    merchant = WechatPayMerchant(mchid=mchid, appid=appid, apiv3_key=apiv3_key)
    keys = WechatPayKeyStore.from_settings(
        public_key=public_key, public_key_id=public_key_id, certificate_dir=certificate_dir
    )
    if len(keys) == 0:
        raise _shut("WeChat Pay", [f"{WECHATPAY_KEYS_ENV} (no *.pem found)"])
    return WechatPayVerifier(merchant, keys)
