"""The documented connection profiles (`deploy/temporal.toml`) load as written, and unusable
connection settings are refused with a message naming the variable before anything is contacted."""

import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.envconfig import ClientConfig, ClientConfigProfile

from service.temporal import ConnectionSettingsError, connect_config

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "deploy" / "temporal.toml"


def _profile(name: str) -> ClientConfigProfile:
    return ClientConfigProfile.load(
        name, config_source=PROFILES, config_file_strict=True, override_env_vars={}
    )


@pytest.mark.parametrize(
    ("name", "address", "namespace"),
    [
        ("default", "localhost:7233", "default"),
        ("cluster", "temporal.internal.example:7233", "upgrades"),
        ("compose", "temporal:7233", "upgrades"),
        ("cloud", "us-east-1.aws.api.temporal.io:7233", "upgrades.a1b2c"),
    ],
)
def test_every_documented_profile_loads_strictly(name: str, address: str, namespace: str) -> None:
    profile = _profile(name)
    assert (profile.address, profile.namespace) == (address, namespace)
    assert profile.api_key is None, "no secret may be committed in the profiles file"


def test_cluster_profile_uses_mutual_tls() -> None:
    tls = _profile("cluster").tls
    assert tls is not None
    assert tls.server_name == "temporal.internal.example"
    assert tls.client_cert is not None and tls.client_private_key is not None
    assert tls.server_root_ca_cert is not None


def test_cloud_profile_takes_its_api_key_from_the_environment_and_turns_tls_on() -> None:
    config = ClientConfig.load_client_connect_config(
        "cloud", config_file=str(PROFILES), override_env_vars={"TEMPORAL_API_KEY": "key-123"}
    )
    assert config.get("api_key") == "key-123"
    assert config.get("tls") is True


def test_environment_overrides_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(PROFILES))
    monkeypatch.setenv("TEMPORAL_PROFILE", "compose")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "staging")
    config = connect_config()
    assert (config["target_host"], config["namespace"]) == ("temporal:7233", "staging")


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"TEMPORAL_CONFIG_FILE": "/nonexistent/temporal.toml"}, "TEMPORAL_CONFIG_FILE", "no such"),
        ({"TEMPORAL_PROFILE": "nope"}, "TEMPORAL_PROFILE", "nope"),
    ],
)
def test_unusable_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str, words: str
) -> None:
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(PROFILES))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConnectionSettingsError) as raised:
        connect_config()
    assert raised.value.variable == variable
    assert words in str(raised.value)


def test_a_misspelt_key_in_the_config_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_file = tmp_path / "temporal.toml"
    config_file.write_text('[profile.default]\nadress = "localhost:7233"\n', "utf-8")
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(config_file))
    monkeypatch.delenv("TEMPORAL_PROFILE", raising=False)
    with pytest.raises(ConnectionSettingsError) as raised:
        connect_config()
    assert raised.value.variable == "TEMPORAL_CONFIG_FILE"
    assert "adress" in str(raised.value)


@pytest.mark.parametrize("program", ["starter.py", "worker.py"])
def test_clis_exit_2_with_one_line_on_a_bad_profile(program: str) -> None:
    args = [sys.executable, program] + (["list"] if program == "starter.py" else [])
    env = {"PATH": "/usr/bin:/bin", "TEMPORAL_PROFILE": "nope", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "TEMPORAL_PROFILE" in lines[0], done.stderr


def test_compose_profile_matches_the_compose_namespace() -> None:
    dotenv = dict(
        line.split("=", 1)
        for line in (ROOT / ".env").read_text("utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert _profile("compose").namespace == dotenv["TEMPORAL_NAMESPACE"]
