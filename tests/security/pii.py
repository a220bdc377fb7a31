"""The personal-data rule, as test helpers the CLI, ingress and audit tests can share.

Personal data: the account id, the app id, the transaction id and the amount of an order. The
order id is the business key and may appear anywhere (workflow id, logs, summary). Where Temporal
never encrypts (workflow ids, search attributes, memo) and what the UI lists (the static summary),
none of the personal values may appear.
"""

from collections.abc import Iterable

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowExecutionDescription

from domain.models import UpgradeOrder

PERSONAL_FIELDS = ("account_id", "app_id", "transaction_id", "amount")


def personal_values(order: UpgradeOrder) -> dict[str, str]:
    return {field: str(getattr(order, field)) for field in PERSONAL_FIELDS}


def leaks(order: UpgradeOrder, texts: Iterable[str | bytes]) -> list[str]:
    """The personal fields of `order` whose value occurs in any of `texts`."""
    blobs = [t.encode() if isinstance(t, str) else t for t in texts]
    return [
        field
        for field, value in personal_values(order).items()
        if any(value.encode() in blob for blob in blobs)
    ]


def _raw(payload: Payload) -> bytes:
    return payload.SerializeToString()


def unencrypted_surfaces(desc: WorkflowExecutionDescription) -> dict[str, list[bytes]]:
    """What a payload codec never encrypts, raw: workflow id, search attributes, memo."""
    info = desc.raw_description.workflow_execution_info
    return {
        "workflow_id": [info.execution.workflow_id.encode()],
        "search_attributes": [
            name.encode() + b"=" + _raw(value)
            for name, value in info.search_attributes.indexed_fields.items()
        ],
        "memo": [name.encode() + b"=" + _raw(value) for name, value in info.memo.fields.items()],
    }
