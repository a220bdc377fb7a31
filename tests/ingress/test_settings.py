"""The ingress settings: secrets from the environment, never shown, empty means unset."""

import pytest

from domain.models import PaymentMethod
from ingress.settings import (
    DEV_CHANNEL_SECRETS,
    IngressSettings,
    channel_secret_env,
    development_env,
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in development_env():
        # Set, then delete: monkeypatch then restores the variable's original state (absent or
        # not) even when the code under test writes it into os.environ itself.
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)


def test_channel_secrets_come_from_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPGRADE_CHANNEL_SECRET_WECHAT_PAY", "s3cret-wechat")
    monkeypatch.setenv("UPGRADE_OPERATOR_TOKEN", "op-token-value")
    monkeypatch.setenv("UPGRADE_INGRESS_PORT", "8411")
    settings = IngressSettings()
    secret = settings.channel_secret(PaymentMethod.WECHAT_PAY)
    assert secret is not None and secret.get_secret_value() == "s3cret-wechat"
    assert settings.channel_secret(PaymentMethod.ALIPAY) is None
    assert settings.configured_channels() == ["wechat_pay"]
    assert settings.ingress_port == 8411
    shown = repr(settings) + str(settings.model_dump())
    assert "s3cret-wechat" not in shown and "op-token-value" not in shown


def test_an_empty_secret_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPGRADE_CHANNEL_SECRET_ALIPAY", "  ")
    monkeypatch.setenv("UPGRADE_OPERATOR_TOKEN", "")
    settings = IngressSettings()
    assert settings.channel_secret(PaymentMethod.ALIPAY) is None
    assert settings.operator_token is None


def test_development_env_names_every_channel_variable() -> None:
    env = development_env()
    assert {channel_secret_env(m) for m in PaymentMethod} <= env.keys()
    assert env["UPGRADE_CHANNEL_SECRET_BANK_CARD"] == DEV_CHANNEL_SECRETS[PaymentMethod.BANK_CARD]
    assert len(set(DEV_CHANNEL_SECRETS.values())) == len(PaymentMethod)  # one secret per channel


def test_make_run_fills_in_development_values_and_never_prints_real_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from devstack.stack import apply_ingress_secrets

    monkeypatch.setenv("UPGRADE_OPERATOR_TOKEN", "prod-operator-token-value")
    monkeypatch.setenv("UPGRADE_CHANNEL_SECRET_ALIPAY", "")
    lines = apply_ingress_secrets()
    printed = "\n".join(lines)
    assert "prod-operator-token-value" not in printed
    assert "UPGRADE_OPERATOR_TOKEN from the environment" in printed
    assert "UPGRADE_CHANNEL_SECRET_ALIPAY is empty" in printed
    wechat = DEV_CHANNEL_SECRETS[PaymentMethod.WECHAT_PAY]
    assert f"UPGRADE_CHANNEL_SECRET_WECHAT_PAY={wechat} (development value" in printed
    # The children inherit the filled-in values; the operator's own stays as it was.
    settings = IngressSettings()
    token = settings.operator_token
    assert token is not None and token.get_secret_value() == "prod-operator-token-value"
    assert settings.configured_channels() == ["wechat_pay", "bank_card", "corporate_transfer"]
