"""The production shape, validated without Docker (this machine has none): docker-compose.yml
parsed with PyYAML and checked against .env, the Dockerfile, the setup scripts in deploy/ and the
saga's own search attributes; and the namespace setup script run for real, twice, against the dev
server with the `temporal` CLI the admin-tools image also ships.
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from workflows.search_attributes import REGISTRATION

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]

# One-shot jobs: they exit 0 when done, and others wait for `service_completed_successfully`.
JOBS = {"temporal-schema", "temporal-setup"}
LONG_RUNNING = {"postgresql", "temporal", "temporal-ui", "worker", "ingress", "sandbox"}
SECRETS = {
    "POSTGRES_PASSWORD",
    "UPGRADE_OPERATOR_TOKEN",
    "UPGRADE_BACKEND_TOKEN",
    "UPGRADE_CHANNEL_SECRET_ALIPAY",
    "UPGRADE_CHANNEL_SECRET_WECHAT_PAY",
    "UPGRADE_CHANNEL_SECRET_BANK_CARD",
    "UPGRADE_CHANNEL_SECRET_CORPORATE_TRANSFER",
}
VERSION = re.compile(r"^\d+(\.\d+){1,3}$")  # 16.13, 1.31.0: a release, never a moving tag
REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:\?)[^}]*|[^}]*)\}")


def dotenv() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env").read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    assert isinstance(env, dict), f"{service}: environment as a mapping"
    return {str(k): str(v) for k, v in env.items()}


def registered_by_compose() -> dict[str, str]:
    pairs = environment("temporal-setup")["SEARCH_ATTRIBUTES"].split()
    return dict(pair.split("=", 1) for pair in pairs)


def test_every_service_of_the_production_shape_is_there() -> None:
    assert set(SERVICES) == JOBS | LONG_RUNNING
    assert SERVICES["temporal"]["image"].startswith("temporalio/server:")
    assert not any("auto-setup" in str(s.get("image")) for s in SERVICES.values())
    for job in JOBS:
        assert SERVICES[job]["image"].startswith("temporalio/admin-tools:")
    assert SERVICES["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert SERVICES["postgresql"]["image"].startswith("postgres:")
    ours = {name for name, s in SERVICES.items() if "build" in s}
    assert ours == {"worker", "ingress", "sandbox"}
    assert len({SERVICES[name]["image"] for name in ours}) == 1  # one image for all three
    assert SERVICES["worker"]["command"] == ["python", "worker.py"]
    assert SERVICES["ingress"]["command"] == ["python", "-m", "ingress"]
    assert SERVICES["sandbox"]["command"][:4] == ["python", "-m", "sandbox", "serve"]


def test_published_ports() -> None:
    def published(service: str) -> set[str]:
        return {str(p).split(":")[0] for p in SERVICES[service].get("ports", [])}

    assert published("temporal") == {"7233", "8000"}
    assert published("temporal-ui") == {"8080"}
    assert published("ingress") == {"8400"}
    assert published("sandbox") == {"8300"}
    # Two replicas cannot share one host port: a range gives each its own.
    assert SERVICES["worker"]["ports"] == ["9464-9465:9464"]
    assert environment("worker")["UPGRADE_METRICS_BIND"] == "0.0.0.0:9464"
    assert "ports" not in SERVICES["postgresql"]  # only Temporal talks to the database


def test_every_image_is_pinned_through_env_to_a_release() -> None:
    env = dotenv()
    for name, service in SERVICES.items():
        repository, _, tag = service["image"].partition(":")
        match = re.fullmatch(r"\$\{([A-Z0-9_]+)\}", tag)
        assert match, f"{name}: image tag {tag!r} must be a .env variable"
        assert VERSION.match(env.get(match.group(1), "")), f"{name}: {match.group(1)} unpinned"
        assert repository and "latest" not in service["image"]
    # Server and its schema tool move together (the schema must be the one the server expects).
    assert env["TEMPORAL_VERSION"] == env["TEMPORAL_ADMINTOOLS_VERSION"]


def test_dockerfile_base_is_pinned_and_runs_as_non_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    default = re.search(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.M)
    assert default and VERSION.match(default.group(1)) and default.group(1).startswith("3.11.")
    assert default.group(1) == dotenv()["PYTHON_VERSION"]
    assert re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim$", dockerfile, re.M)
    assert re.search(r"^USER (?!root\b|0\b)\w+$", dockerfile, re.M)
    build = SERVICES["worker"]["build"]
    assert build["args"]["PYTHON_VERSION"] == "${PYTHON_VERSION}"


def test_every_variable_is_pinned_in_env_or_a_required_secret() -> None:
    text = (ROOT / "docker-compose.yml").read_text("utf-8")
    env = dotenv()
    references = REFERENCE.findall(text)
    # Every secret is passed to the services (a missing one leaves its door closed, 503).
    missing = SECRETS - {name for name, _ in references}
    assert not missing, f"secrets not passed to any service: {sorted(missing)}"
    for name, required in references:
        if name in SECRETS:
            assert required == ":?", f"{name}: a secret must be required, never defaulted"
        else:
            assert name in env, f"${{{name}}} is not set in .env"
    assert not SECRETS & set(env), ".env holds no secrets"
    example = (ROOT / "deploy" / "secrets.env.example").read_text("utf-8")
    assert {line.split("=")[0] for line in example.splitlines() if "=" in line} == SECRETS


def test_long_running_services_have_health_checks() -> None:
    for name in LONG_RUNNING:
        check = SERVICES[name].get("healthcheck", {})
        assert check.get("test"), f"{name}: no healthcheck"
        assert SERVICES[name].get("restart") == "unless-stopped", name
    for name in JOBS:
        assert "healthcheck" not in SERVICES[name]
        assert str(SERVICES[name].get("restart", "")).startswith("on-failure"), name
    worker_probe = " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert "9464/metrics" in worker_probe
    assert "8400/readyz" in " ".join(SERVICES["ingress"]["healthcheck"]["test"])


def test_depends_on_waits_for_health_or_completion() -> None:
    for name, service in SERVICES.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            wanted = "service_completed_successfully" if target in JOBS else "service_healthy"
            assert rule == {"condition": wanted}, f"{name} → {target}"
    # The chain that makes a first `up` work on an empty database.
    assert set(SERVICES["temporal-schema"]["depends_on"]) == {"postgresql"}
    assert set(SERVICES["temporal"]["depends_on"]) == {"temporal-schema"}
    assert set(SERVICES["temporal-setup"]["depends_on"]) == {"temporal"}
    # Our processes never start before the namespace and its search attributes exist.
    for name in ("worker", "ingress"):
        assert {"temporal", "temporal-setup"} <= set(SERVICES[name]["depends_on"])


def test_two_workers_that_drain_on_stop() -> None:
    worker = SERVICES["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert "container_name" not in worker  # a fixed name would forbid a second replica
    grace = float(environment("worker")["UPGRADE_SHUTDOWN_GRACE_S"])
    assert float(worker["stop_grace_period"].rstrip("s")) > grace


def test_every_search_attribute_of_the_saga_is_registered_with_its_type() -> None:
    assert registered_by_compose() == REGISTRATION
    setup = environment("temporal-setup")
    assert setup["TEMPORAL_NAMESPACE"] == "${TEMPORAL_NAMESPACE}"
    for name in ("worker", "ingress"):
        assert environment(name)["TEMPORAL_NAMESPACE"] == "${TEMPORAL_NAMESPACE}"
    assert SERVICES["temporal-setup"]["command"] == ["/deploy/setup-namespace.sh"]


def test_sql_visibility_has_room_for_our_attributes() -> None:
    # SQL visibility (PostgreSQL here) offers a fixed number of custom attributes per type and
    # namespace: Keyword 10; Bool, Datetime, Int, Double, Text and KeywordList 3 each.
    limits = {"Keyword": 10}
    counts: dict[str, int] = {}
    for kind in REGISTRATION.values():
        counts[kind] = counts.get(kind, 0) + 1
    for kind, count in counts.items():
        assert count <= limits.get(kind, 3), f"{count} {kind} attributes exceed SQL visibility"


def test_schema_job_creates_and_migrates_both_databases_for_postgres12() -> None:
    assert SERVICES["temporal-schema"]["command"] == ["/deploy/setup-schema.sh"]
    script = (ROOT / "deploy" / "setup-schema.sh").read_text("utf-8")
    assert "--plugin postgres12" in script
    assert "SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12" in script
    assert "temporal:temporal temporal_visibility:visibility" in script
    for step in ("create", "setup-schema -v 0.0", 'update-schema -d "$schema_dir"'):
        assert f'--db "$database" {step}' in script
    server = environment("temporal")
    assert server["DB"] == "postgres12" and server["POSTGRES_SEEDS"] == "postgresql"
    assert (server["DBNAME"], server["VISIBILITY_DBNAME"]) == ("temporal", "temporal_visibility")


def test_server_dynamic_config_is_mounted_and_valid() -> None:
    server = SERVICES["temporal"]
    path = environment("temporal")["DYNAMIC_CONFIG_FILE_PATH"]
    mount = next(v for v in server["volumes"] if v.startswith("./deploy/dynamicconfig:"))
    target = mount.split(":")[1]
    assert path.startswith(target + "/")
    local = ROOT / "deploy" / "dynamicconfig" / path.removeprefix(target + "/")
    config = yaml.safe_load(local.read_text("utf-8"))
    assert config["frontend.enableUpdateWorkflowExecution"][0]["value"] is True
    for values in config.values():
        assert isinstance(values, list) and all("value" in v for v in values)


def run_setup(
    address: str, namespace: str, attributes: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        # The admin-tools image has `temporal` on PATH; here it is the CLI from PyPI.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        TEMPORAL_ADDRESS=address,
        TEMPORAL_NAMESPACE=namespace,
        TEMPORAL_NAMESPACE_RETENTION="3d",
        SEARCH_ATTRIBUTES=attributes or environment("temporal-setup")["SEARCH_ATTRIBUTES"],
        SETUP_ATTEMPTS="30",
    )
    return subprocess.run(
        ["sh", str(ROOT / "deploy" / "setup-namespace.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_KINDS = {
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
    IndexedValueType.INDEXED_VALUE_TYPE_TEXT: "Text",
    IndexedValueType.INDEXED_VALUE_TYPE_INT: "Int",
    IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE: "Double",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
}


@pytest.mark.timeout(240)
async def test_namespace_setup_script_registers_everything_and_is_idempotent(
    dev_env: WorkflowEnvironment,
) -> None:
    address = dev_env.client.service_client.config.target_host
    namespace = f"compose-{uuid.uuid4().hex[:8]}"
    for attempt in ("first", "again"):
        done = run_setup(address, namespace)
        assert done.returncode == 0, f"{attempt} run: {done.stdout}\n{done.stderr}"
        assert "setup: ready" in done.stdout
    listed = await dev_env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    custom = {name: _KINDS[kind] for name, kind in listed.custom_attributes.items()}
    assert custom == REGISTRATION


async def test_namespace_setup_script_fails_on_a_type_clash(dev_env: WorkflowEnvironment) -> None:
    address = dev_env.client.service_client.config.target_host
    namespace = f"compose-{uuid.uuid4().hex[:8]}"
    assert run_setup(address, namespace).returncode == 0
    clash = environment("temporal-setup")["SEARCH_ATTRIBUTES"].replace(
        "Escalated=Bool", "Escalated=Keyword"
    )
    assert clash != environment("temporal-setup")["SEARCH_ATTRIBUTES"]
    done = run_setup(address, namespace, clash)
    assert done.returncode != 0 and "Escalated" in done.stderr
