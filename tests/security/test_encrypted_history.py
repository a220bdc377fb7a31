"""The issue's key test: with payload encryption on, the Temporal dev server's database file holds
no plaintext account id, app id, transaction id or amount after a whole upgrade; the same run
without encryption shows that the same byte search finds them (so this test can fail).

Each run gets its own dev server on a database file we own, its own task queue, and a worker of
fake activities; client and worker come from `service.temporal.connect`, as in production.
"""

import asyncio
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from client import upgrades
from domain.models import PaymentNotice, PaymentStatus, UpgradeOrder
from domain.stages import Stage
from service.codec import ENCODING
from service.settings import Settings
from service.temporal import connect
from tests.security.keys import key_ring
from tests.support.fakes import FakePlatform
from tests.support.saga_runs import fake_worker, make_order
from tests.support.servers import _binary
from workflows.search_attributes import ALL_KEYS

FEATURES = ("api.traffic_boost", "video.uhd_4k")  # basic → enterprise + these = 2198.00 CNY


def distinctive_order() -> UpgradeOrder:
    tag = uuid.uuid4().hex[:10]
    return make_order(
        f"ORD-ENC-{tag}",
        to_plan="enterprise",
        features=FEATURES,
        account_id=f"acct-pii-{tag}",
        app_id=f"app-pii-{tag}",
        transaction_id=f"txn-pii-{tag}",
    )


def secrets_of(order: UpgradeOrder) -> dict[str, bytes]:
    return {
        "account_id": order.account_id.encode(),
        "app_id": order.app_id.encode(),
        "transaction_id": order.transaction_id.encode(),
        "amount": str(order.amount).encode(),
    }


def database_bytes(db: Path) -> bytes:
    """The SQLite file and its write-ahead log and shared-memory files, raw."""
    parts = [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]
    return b"".join(p.read_bytes() for p in parts)


async def run_upgrade_on_own_server(db: Path, settings: Settings, order: UpgradeOrder) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        dev_server_extra_args=["--db-filename", str(db)],
        search_attributes=list(ALL_KEYS),
        dev_server_log_level="error",
    )
    try:
        address = env.client.service_client.config.target_host
        client = await connect(address, "default", settings=settings)
        task_queue = f"tq-{uuid.uuid4().hex[:12]}"
        # Payment pending at first: the notice arrives by update, so its payload is stored too.
        fake = FakePlatform(payment_statuses=[PaymentStatus.PENDING])
        async with fake_worker(client, task_queue, fake):
            await upgrades.start_upgrade(client, order, task_queue=task_queue, time_scale=3600)
            notice = PaymentNotice(
                order_id=order.order_id,
                transaction_id=order.transaction_id,
                amount=order.amount,
                currency=order.currency,
            )
            ack = await upgrades.confirm_payment(client, notice)
            assert ack.result == "accepted"
            final = await asyncio.wait_for(upgrades.wait_result(client, order.order_id), 60)
            assert final.stage is Stage.ACTIVE
            desc = await client.get_workflow_handle(order.workflow_id).describe()
            metadata = desc.raw_description.execution_config.user_metadata
            # The SDK runs the static summary and details through the codec (they are payloads).
            encrypted = settings.encryption_keys is not None
            assert (metadata.details.metadata["encoding"] == ENCODING) is encrypted
            assert (metadata.summary.metadata["encoding"] == ENCODING) is encrypted
            assert str(order.amount) in (await desc.static_details() or "")
    finally:
        await env.shutdown()


@pytest.mark.timeout(180)
async def test_dev_server_database_holds_no_plaintext_personal_data_with_encryption_on(
    tmp_path: Path,
) -> None:
    encrypted_order, control_order = distinctive_order(), distinctive_order()
    encrypted_db, control_db = tmp_path / "encrypted.sqlite", tmp_path / "control.sqlite"

    await run_upgrade_on_own_server(
        encrypted_db, Settings(encryption_keys=SecretStr(key_ring("k1"))), encrypted_order
    )
    await run_upgrade_on_own_server(control_db, Settings(encryption_keys=None), control_order)

    encrypted_raw, control_raw = database_bytes(encrypted_db), database_bytes(control_db)
    # Both databases hold their run: the workflow id (the order id, allowed) is in clear text.
    assert encrypted_order.workflow_id.encode() in encrypted_raw
    assert control_order.workflow_id.encode() in control_raw
    # The control run proves the search works: without encryption every value is there...
    found_in_control = [k for k, v in secrets_of(control_order).items() if v in control_raw]
    assert found_in_control == ["account_id", "app_id", "transaction_id", "amount"]
    # ...and with encryption on, none of them is.
    leaked = [k for k, v in secrets_of(encrypted_order).items() if v in encrypted_raw]
    assert leaked == [], f"plaintext in the encrypted database: {leaked}"
    print(
        f"\nencrypted db {len(encrypted_raw)} bytes: none of {list(secrets_of(encrypted_order))}; "
        f"control db {len(control_raw)} bytes: all found"
    )
