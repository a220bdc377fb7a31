"""Development keys for the payment channels: `make run` plays Alipay and WeChat Pay for real.

On first start, under `$UPGRADE_DATA_DIR/channel-keys/`: an RSA key pair standing for Alipay's
(the sandbox signs with the private half, the ingress verifies with the public half), one for
WeChat Pay's platform (named by a `PUB_KEY_ID_...` id), and a random 32-byte APIv3 key. Private
files are 0600 and never printed. Then both sides are configured through the environment the
children inherit, each variable only if unset: the ingress's `UPGRADE_ALIPAY_*` and
`UPGRADE_WECHATPAY_*` (ids, public keys as file paths, the APIv3 key) and the sandbox's
`UPGRADE_SANDBOX_ALIPAY_PRIVATE_KEY`, `UPGRADE_SANDBOX_WECHATPAY_PRIVATE_KEY` and
`UPGRADE_SANDBOX_NOTIFY_URL` (the ingress started by the stack). A channel whose public key is
already set in the environment (real keys) is left alone: the sandbox cannot sign for it, so its
payments are polled.

Boundary: files and environment variables; no process is started here.
"""

import os
import secrets
import string
from pathlib import Path

from channels.keys import generate_private_key, private_key_pem, public_key_pem

KEY_DIR = "channel-keys"
DEV_ALIPAY_APP_ID = "2021000000000001"
DEV_ALIPAY_SELLER_ID = "2088000000000001"
DEV_WECHATPAY_MCHID = "1900000109"
DEV_WECHATPAY_APPID = "wx8888888888888888"
DEV_WECHATPAY_KEY_ID = "PUB_KEY_ID_0000000000000000000000000000DEV"
_APIV3_ALPHABET = string.ascii_letters + string.digits


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def _pair(directory: Path, name: str) -> tuple[Path, Path]:
    """`<name>-private.pem` and `<name>-public.pem`, generated once."""
    private, public = directory / f"{name}-private.pem", directory / f"{name}-public.pem"
    if not (private.is_file() and public.is_file()):
        key = generate_private_key()
        _write_private(private, private_key_pem(key))
        public.write_text(public_key_pem(key.public_key()), encoding="utf-8")
    return private, public


def _apiv3_key(directory: Path) -> str:
    path = directory / "wechatpay-apiv3.key"
    if not path.is_file():
        _write_private(path, "".join(secrets.choice(_APIV3_ALPHABET) for _ in range(32)))
    return path.read_text(encoding="utf-8").strip()


def development_channel_env(data_dir: Path, notify_url: str) -> dict[str, str]:
    """Every variable both sides need for the two channels, with development keys (generated
    under `data_dir` on first use)."""
    directory = data_dir / KEY_DIR
    alipay_private, alipay_public = _pair(directory, "alipay")
    wechat_private, wechat_public = _pair(directory, "wechatpay-platform")
    return {
        "UPGRADE_ALIPAY_APP_ID": DEV_ALIPAY_APP_ID,
        "UPGRADE_ALIPAY_SELLER_ID": DEV_ALIPAY_SELLER_ID,
        "UPGRADE_ALIPAY_PUBLIC_KEY": str(alipay_public),
        "UPGRADE_SANDBOX_ALIPAY_PRIVATE_KEY": str(alipay_private),
        "UPGRADE_WECHATPAY_MCHID": DEV_WECHATPAY_MCHID,
        "UPGRADE_WECHATPAY_APPID": DEV_WECHATPAY_APPID,
        "UPGRADE_WECHATPAY_APIV3_KEY": _apiv3_key(directory),
        "UPGRADE_WECHATPAY_PUBLIC_KEY": str(wechat_public),
        "UPGRADE_WECHATPAY_PUBLIC_KEY_ID": DEV_WECHATPAY_KEY_ID,
        "UPGRADE_SANDBOX_WECHATPAY_PRIVATE_KEY": str(wechat_private),
        "UPGRADE_SANDBOX_NOTIFY_URL": notify_url,
    }


_ALIPAY_OWNED = ("UPGRADE_ALIPAY_PUBLIC_KEY",)
_WECHAT_OWNED = ("UPGRADE_WECHATPAY_PUBLIC_KEY", "UPGRADE_WECHATPAY_CERTIFICATE_DIR")


def apply_channel_keys(data_dir: Path, notify_url: str) -> list[str]:
    """Set every unset channel variable to its development value (in our environment, so the
    children inherit it); one line per channel saying what was done (no key material)."""
    env = development_channel_env(data_dir, notify_url)
    lines: list[str] = []
    skip: set[str] = set()
    for channel, owned, prefixes in (
        ("alipay", _ALIPAY_OWNED, ("UPGRADE_ALIPAY_", "UPGRADE_SANDBOX_ALIPAY_")),
        ("wechat_pay", _WECHAT_OWNED, ("UPGRADE_WECHATPAY_", "UPGRADE_SANDBOX_WECHATPAY_")),
    ):
        if any(os.environ.get(name, "").strip() for name in owned):
            skip.update(name for name in env if name.startswith(prefixes))
            lines.append(f"{channel}: keys from the environment; the sandbox does not play it")
        else:
            lines.append(
                f"{channel}: development keys in {data_dir / KEY_DIR} (the sandbox signs, the "
                "ingress verifies)"
            )
    for name, value in env.items():
        if name not in skip:
            os.environ.setdefault(name, value)
    return lines
