"""The payload sizes of the saga, measured from a real history, and the blobs B3 sends instead.

B3 must move the same bytes through the same data converter as the saga, without the saga's
models and logic. `SagaSizes` holds those byte counts (workflow input and result, update argument
and result, the `status` query, each activity's input and result, the account lease's messages);
`bench.calibrate` reads them off a finished REAL run; `blob` makes a pydantic payload of a given
size, `LeaseAsk` / `LeaseEntityStart` are B3's lease messages padded to the saga's sizes.

Boundary: pure data and arithmetic, safe to import in workflow code (passed through the sandbox).
"""

from pydantic import BaseModel, ConfigDict

from domain.lease import REQUEST_ACTIVITY
from domain.steps import Activity

# The saga's activities on a normal `plan` upgrade, as the real history shows them: before the
# fan-out, the eight-way fan-out, after it. The payment poll comes first when the notification
# arrives after the run's first task. The apply-latency reads (ETA evidence) open `reconciling`
# and `propagating`, right after the stage is entered; the account lease's request follows the
# first read, before `reconcile_order`.
PAYMENT_POLL = Activity.CONFIRM_PAYMENT_STATUS.value
LATENCY_READ = Activity.READ_APPLY_LATENCY.value
LEASE_REQUEST = REQUEST_ACTIVITY
BEFORE_FANOUT = (
    LATENCY_READ,
    Activity.RECONCILE_ORDER.value,
    Activity.UPDATE_BILLING_PLAN.value,
    LATENCY_READ,
    Activity.PUBLISH_CONFIG_VERSION.value,
)
FANOUT = Activity.PUSH_CONFIG.value
AFTER_FANOUT = (
    Activity.CHECK_PROPAGATION.value,
    Activity.ACTIVATE_ENTITLEMENTS.value,
    Activity.INVALIDATE_CONSOLE_CACHE.value,
    Activity.NOTIFY_CUSTOMER.value,
)
SAGA_ACTIVITIES = tuple(
    dict.fromkeys((PAYMENT_POLL, LEASE_REQUEST, *BEFORE_FANOUT, FANOUT, *AFTER_FANOUT))
)

# `{"data":""}` and `{"data":"","reply_bytes":0}` around the padding, as the JSON converter writes.
_BLOB_OVERHEAD = len('{"data":""}')
_REQUEST_OVERHEAD = len('{"data":"","reply_bytes":}')


class Blob(BaseModel):
    """An opaque payload of a chosen size (a result, an update's answer, a query's answer)."""

    model_config = ConfigDict(frozen=True)
    data: str


class BlobRequest(BaseModel):
    """An activity input of a chosen size that says how big the answer must be."""

    model_config = ConfigDict(frozen=True)
    data: str
    reply_bytes: int


class Exchange(BaseModel):
    """One call's bytes: what goes in, what comes back (payload data, as the converter writes it)."""

    model_config = ConfigDict(frozen=True)
    input_bytes: int
    result_bytes: int


class LeaseSizes(BaseModel):
    """The account lease's messages besides its activity (whose sizes are in `activities`)."""

    model_config = ConfigDict(frozen=True)
    entity_input_bytes: int  # the entity's start input (its state), sent by signal-with-start
    request_bytes: int  # the `request` signal (the activity's own input, passed on)
    grant_bytes: int  # the `lease_granted` signal
    release_bytes: int  # the `release` signal


class SagaSizes(BaseModel):
    model_config = ConfigDict(frozen=True)
    workflow: Exchange
    update: Exchange  # confirm_payment: the notice in, the acknowledgement out
    query_bytes: int  # the `status` answer
    activities: dict[str, Exchange]
    fanout: int  # regions pushed in parallel
    lease: LeaseSizes
    patches: int  # `workflow.patched` markers the saga records at its start


def blob(size: int) -> Blob:
    return Blob(data="x" * max(size - _BLOB_OVERHEAD, 0))


def request(exchange: Exchange) -> BlobRequest:
    digits = len(str(exchange.result_bytes))
    pad = max(exchange.input_bytes - _REQUEST_OVERHEAD - digits, 0)
    return BlobRequest(data="x" * pad, reply_bytes=exchange.result_bytes)


class B3Input(BaseModel):
    """B3's workflow input: the sizes it must reproduce, padded to the saga's input size."""

    model_config = ConfigDict(frozen=True)
    sizes: SagaSizes
    padding: str = ""


def b3_input(sizes: SagaSizes) -> B3Input:
    bare = len(B3Input(sizes=sizes).model_dump_json())
    return B3Input(sizes=sizes, padding="x" * max(sizes.workflow.input_bytes - bare, 0))


class LeaseAsk(BaseModel):
    """B3's lease request: the activity's input and, passed on as it is, the `request` signal
    that starts the entity; it names the run the grant goes back to, like `LeaseRequest`."""

    model_config = ConfigDict(frozen=True)
    entity_id: str
    workflow_id: str
    run_id: str
    sizes: LeaseSizes
    data: str = ""


class LeaseEntityStart(BaseModel):
    """B3's entity input (the real entity's is its state)."""

    model_config = ConfigDict(frozen=True)
    grant_bytes: int
    data: str = ""


def lease_ask(
    entity_id: str, workflow_id: str, run_id: str, sizes: LeaseSizes, size: int
) -> LeaseAsk:
    bare = LeaseAsk(entity_id=entity_id, workflow_id=workflow_id, run_id=run_id, sizes=sizes)
    return bare.model_copy(update={"data": "x" * max(size - len(bare.model_dump_json()), 0)})


def lease_entity_start(sizes: LeaseSizes) -> LeaseEntityStart:
    bare = LeaseEntityStart(grant_bytes=sizes.grant_bytes)
    pad = max(sizes.entity_input_bytes - len(bare.model_dump_json()), 0)
    return bare.model_copy(update={"data": "x" * pad})
