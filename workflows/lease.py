"""The saga's side of the account lease (`workflows.account_lease`): ask for the account once paid,
wait for the grant, release it when the run is `active` or fully compensated.

A run holds its account from reconciliation until it ends: every change it makes to the account
(billing, config, entitlements) and every undo happens while no other order of the account acts.
The account is released in `ending.finish`, which every way out of the run goes through (the
Temporal-level cancel too: its unwind is shielded); a run that closes without it (terminated) is
noticed by the entity, which watches its holder. A run that ends while still waiting withdraws
its request the same way.

Runs started before the lease existed (patch `account-lease`, read once per run into
`state.leased`) neither ask nor release.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.lease import LeaseActivities
    from domain.lease import (
        RELEASE_SIGNAL,
        LeaseGrant,
        LeaseQueued,
        LeaseRelease,
        LeaseRequest,
        RunRef,
        lease_workflow_id,
    )

from workflows.calls import check_cancel, forward
from workflows.state import RunState
from workflows.visibility import publish

# How often the entity checks that this run, while holding, still runs (policy time).
HOLDER_CHECK = timedelta(minutes=5)
# The patch id: runs started before it neither ask for nor release the account.
ACCOUNT_LEASE = "account-lease"


def this_run(state: RunState) -> RunRef:
    info = workflow.info()
    return RunRef(order_id=state.order.order_id, workflow_id=info.workflow_id, run_id=info.run_id)


async def hold_account(state: RunState) -> None:
    """Ask for the account (once) and wait until it is granted; a `cancel` ends the wait."""
    if not state.leased or state.lease is not None:
        return
    if not state.lease_requested:
        await forward(
            state,
            LeaseActivities.request_account_lease,
            LeaseRequest(
                account_id=state.order.account_id,
                run=this_run(state),
                paid_at=state.payment.confirmed_at,
                check_every_s=HOLDER_CHECK.total_seconds() / state.policy.time_scale,
            ),
            summary=f"ask for account {state.order.account_id} (one order at a time)",
        )
        state.lease_requested = True
    if state.lease is None:
        publish(state)
        await workflow.wait_condition(
            lambda: state.lease is not None or state.cancel is not None,
            timeout_summary=f"wait for account {state.order.account_id}",
        )
        check_cancel(state)
    publish(state)


def granted(state: RunState, grant: LeaseGrant) -> None:
    """The `lease_granted` signal."""
    if state.lease is None and grant.account_id == state.order.account_id:
        state.lease = grant
        state.lease_queue = None
        workflow.logger.info("account %s granted (token %d)", grant.account_id, grant.token)


def queued(state: RunState, place: LeaseQueued) -> None:
    """The `lease_queued` signal: where the run stands while another order holds the account."""
    if state.lease is None:
        state.lease_queue = place
        publish(state)


async def release_account(state: RunState, why: str) -> None:
    """Give the account back (or withdraw the request); once, and only if it was asked for."""
    if not state.leased or not state.lease_requested or state.lease_released:
        return
    state.lease_released = True
    release = LeaseRelease(
        account_id=state.order.account_id,
        run=this_run(state),
        token=state.lease.token if state.lease else None,
        reason=why,
    )
    handle = workflow.get_external_workflow_handle(lease_workflow_id(state.order.account_id))
    # Best effort: a release that cannot be delivered (the entity reset by an operator) is made
    # good by the entity's watch on this run, which ends with it.
    try:
        await handle.signal(RELEASE_SIGNAL, release)
    except FailureError as err:
        workflow.logger.warning("account release not delivered: %s", err)
