"""The ingress's settings: where it listens, the channels' keys and secrets, the bearer tokens.

Read from the environment like every `UPGRADE_*` setting (it extends `service.settings.Settings`,
so the time scale and task queue used to start upgrades are the worker's). Secrets are
`SecretStr`: they never appear in a repr, a log line or an error message. An empty value counts
as unset. A channel without a secret refuses every notification (503): an unsigned door is
never opened by a missing variable.

The channels' own doors (`/v1/payments/alipay/notify`, `/v1/payments/wechat_pay/notify`) need
their merchant ids and keys (`UPGRADE_ALIPAY_*`, `UPGRADE_WECHATPAY_*`); a key that does not load
stops the process naming its variable, and a channel with any of them missing answers 503
naming what is missing (`ingress.channel_keys`). Public keys are PEM text, a path to a PEM file,
or (Alipay) the bare base64 its console shows; only the APIv3 key is a secret.

The development values below are public on purpose (README, `make run` prints them): they make
the embedded stack usable out of the box and must never be used in production.
"""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from channels.keys import load_public_key
from channels.wechat_pay import APIV3_KEY_BYTES, PUBLIC_KEY_ID_PREFIX
from client.ack_journal import AckJournal
from domain.models import PaymentMethod
from service.settings import Settings

CHANNEL_SECRET_ENV_PREFIX = "UPGRADE_CHANNEL_SECRET_"
OPERATOR_TOKEN_ENV = "UPGRADE_OPERATOR_TOKEN"
BACKEND_TOKEN_ENV = "UPGRADE_BACKEND_TOKEN"
STATUS_LINK_SECRET_ENV = "UPGRADE_STATUS_LINK_SECRET"

DEV_CHANNEL_SECRETS: dict[PaymentMethod, str] = {
    method: f"dev-{method.value.replace('_', '-')}-secret" for method in PaymentMethod
}
DEV_OPERATOR_TOKEN = "dev-operator-token"
DEV_BACKEND_TOKEN = "dev-backend-token"
DEV_STATUS_LINK_SECRET = "dev-status-link-secret"


def channel_secret_env(channel: PaymentMethod) -> str:
    """`UPGRADE_CHANNEL_SECRET_ALIPAY` and so on."""
    return CHANNEL_SECRET_ENV_PREFIX + channel.value.upper()


def development_env() -> dict[str, str]:
    """Every secret variable with its documented development value (what `make run` sets)."""
    env = {channel_secret_env(m): secret for m, secret in DEV_CHANNEL_SECRETS.items()}
    env[OPERATOR_TOKEN_ENV] = DEV_OPERATOR_TOKEN
    env[BACKEND_TOKEN_ENV] = DEV_BACKEND_TOKEN
    env[STATUS_LINK_SECRET_ENV] = DEV_STATUS_LINK_SECRET
    return env


class IngressSettings(Settings):
    ingress_host: str = "127.0.0.1"
    ingress_port: int = Field(default=8400, ge=1, le=65535)
    channel_secret_alipay: SecretStr | None = None
    channel_secret_wechat_pay: SecretStr | None = None
    channel_secret_bank_card: SecretStr | None = None
    channel_secret_corporate_transfer: SecretStr | None = None
    # Operators: resolve (and everything the backend may do).
    operator_token: SecretStr | None = None
    # The backend: start, status, cancel; never resolve (a script must not approve a mismatch).
    backend_token: SecretStr | None = None
    # How long a request waits for Temporal (an update, a query) before answering 503/504: a
    # payment channel gives up after a few seconds and re-delivers anyway.
    ingress_request_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # The channels' doors answer within this (Alipay and WeChat Pay wait about 5 s): when
    # Temporal is slower the answer is a failure, so the channel re-sends; nothing is lost.
    channel_answer_timeout_s: float = Field(default=4.0, gt=0, le=30)
    # Alipay: our app and seller (merchant PID) ids, and Alipay's public key (not ours).
    alipay_app_id: str | None = None
    alipay_seller_id: str | None = None
    alipay_public_key: str | None = None
    # WeChat Pay API v3: our merchant and app ids, the APIv3 key (secret), and the platform's
    # verification keys: a public key with its `PUB_KEY_ID_...` id, and/or a directory of
    # platform certificates (`*.pem`) for accounts still on certificates.
    wechatpay_mchid: str | None = None
    wechatpay_appid: str | None = None
    wechatpay_apiv3_key: SecretStr | None = None
    wechatpay_public_key: str | None = None
    wechatpay_public_key_id: str | None = None
    wechatpay_certificate_dir: Path | None = None
    # Customers' status links (`ingress.links`): the HMAC key (unset: links are refused, 503),
    # how long a new link stays valid, and the public address the printed URL starts with.
    status_link_secret: SecretStr | None = None
    status_link_ttl_s: float = Field(default=86_400.0, gt=0, le=30 * 86_400)
    public_url: str | None = None  # unset: http://<ingress_host>:<ingress_port>
    # How often an event stream re-reads the run's status, and how often it sends a keep-alive.
    events_poll_s: float = Field(default=1.0, gt=0, le=60)
    events_keepalive_s: float = Field(default=15.0, gt=0, le=300)

    @field_validator(
        "channel_secret_alipay",
        "channel_secret_wechat_pay",
        "channel_secret_bank_card",
        "channel_secret_corporate_transfer",
        "operator_token",
        "backend_token",
        "alipay_app_id",
        "alipay_seller_id",
        "alipay_public_key",
        "wechatpay_mchid",
        "wechatpay_appid",
        "wechatpay_apiv3_key",
        "wechatpay_public_key",
        "wechatpay_public_key_id",
        "wechatpay_certificate_dir",
        "status_link_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("alipay_public_key", "wechatpay_public_key")
    @classmethod
    def _loads(cls, value: str | None) -> str | None:
        # Loaded once here so that a bad key stops the process naming its variable.
        if value is not None:
            load_public_key(value, "the key")
        return value

    @field_validator("wechatpay_apiv3_key")
    @classmethod
    def _apiv3_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) != APIV3_KEY_BYTES:
            raise ValueError(
                f"the APIv3 key must be {APIV3_KEY_BYTES} bytes (as set at WeChat Pay)"
            )
        return value

    @field_validator("wechatpay_public_key_id")
    @classmethod
    def _key_id(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(PUBLIC_KEY_ID_PREFIX):
            raise ValueError(f"a platform public key id starts with {PUBLIC_KEY_ID_PREFIX}")
        return value

    @field_validator("wechatpay_certificate_dir")
    @classmethod
    def _a_directory(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value

    def base_url(self) -> str:
        """Where customers reach this ingress: `UPGRADE_PUBLIC_URL`, or where it listens."""
        if self.public_url and self.public_url.strip():
            return self.public_url.strip().rstrip("/")
        return f"http://{self.ingress_host}:{self.ingress_port}"

    def channel_secret(self, channel: PaymentMethod) -> SecretStr | None:
        secret: SecretStr | None = getattr(self, f"channel_secret_{channel.value}")
        return secret

    def configured_channels(self) -> list[str]:
        """Channel names that have a secret (safe to log: names only)."""
        return [m.value for m in PaymentMethod if self.channel_secret(m) is not None]

    def configured_doors(self) -> list[str]:
        """The channels' own doors whose ids and keys are all set (names only)."""
        doors = []
        if self.alipay_app_id and self.alipay_seller_id and self.alipay_public_key:
            doors.append("alipay")
        wechat_keys = self.wechatpay_public_key or self.wechatpay_certificate_dir
        if (
            self.wechatpay_mchid
            and self.wechatpay_appid
            and self.wechatpay_apiv3_key
            and wechat_keys
        ):
            doors.append("wechat_pay")
        return doors


def load_ingress_settings() -> IngressSettings:
    return IngressSettings()


def journal(settings: Settings) -> AckJournal:
    """Where every answer the ingress gives is recorded for `starter.py audit`, as the CLI does."""
    return AckJournal.in_dir(settings.data_dir)
