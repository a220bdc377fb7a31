"""Reading an account's lease (`workflows.account_lease`): which order holds the account and
which wait, by the account id (the entity's workflow id is a pseudonym of it).

Boundary: Temporal reads only; rendering is `cli.account_lease`.
"""

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.lease import AccountLeaseState, lease_workflow_id
from workflows.account_lease import AccountLease


async def account_lease_state(client: Client, account_id: str) -> AccountLeaseState | None:
    """The entity's state, or None when no order of the account has asked for it yet."""
    handle = client.get_workflow_handle(lease_workflow_id(account_id))
    try:
        state = await handle.query(AccountLease.state)
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    assert isinstance(state, AccountLeaseState)
    return state
