"""Stage `reconciling`: first hold the account (one order of an account at a time, in payment
order: `workflows.lease`), then the paid amount and currency, the order and the catalog price
must agree (checked here), then the platform matches order, payment and account
(`reconcile_order`).

- activities: `read_apply_latency` (ETA evidence at payment confirmation, best effort);
  `request_account_lease` (then wait for the grant); amount / currency / catalog price checked in
  the workflow; `reconcile_order`
- compensation: none
- timeout / retry: forward: 30 s per call, 5 tries, then a durable back-off and again, forever
- non-retryable errors: `ReconciliationMismatch` → `needs_attention` (approve, retry, reject)

Since `approve-still-reconciles` (`workflows.patches`), `approve` overrides only the check it
answered: `reconcile_order` still runs (the other checks, the transaction claimed), a transaction
claimed by another order cannot be approved past (retry / reject), and an approved overpayment
refunds the surplus (`paid - order.amount`) at once.
"""

from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities import OrderActivities, PaymentActivities
    from domain import steps
    from domain.effects import SURPLUS_REFUND_STEP
    from domain.errors import ErrorType
    from domain.stages import Stage
    from domain.status import CompensationRecord, EscalationReason

from workflows import evidence
from workflows.calls import forward, must_complete
from workflows.decisions import decided
from workflows.escalation import escalate
from workflows.exits import Refusal
from workflows.lease import hold_account
from workflows.state import RunState
from workflows.visibility import enter, publish

STAGE = Stage.RECONCILING

# Checks of the platform an operator may approve past; `transaction_id` (claimed by another
# order) never: that would apply one payment to two orders.
_PLATFORM_OVERRIDABLE = ("from_plan", "app_id")


async def run(state: RunState) -> None:
    enter(state, STAGE)
    # The payment is confirmed: the ETA given now rests on the platform's current latency.
    await evidence.at_payment_confirmed(state)
    order = state.order
    # From here to the end of the run, no other order of the account acts (`workflows.lease`).
    await hold_account(state)
    bound = state.safety.approve_still_reconciles
    overrides: set[str] = set()

    async def attempt() -> None:
        price = state.input.catalog_price
        mismatch, field = None, None
        if state.paid_currency != order.currency:
            mismatch = f"currency: paid in {state.paid_currency}, ordered in {order.currency}"
            field = "currency"
        elif state.paid_amount != order.amount:
            mismatch = (
                f"amount: the channel reports {state.paid_amount} paid, the order is {order.amount}"
            )
            field = "amount"
        elif order.amount != price:
            mismatch = f"amount: the order's {order.amount} is not the catalog price {price}"
            field = "price"
        if mismatch and not (bound and field in overrides):
            raise Refusal(ErrorType.RECONCILIATION_MISMATCH, mismatch, field)
        await forward(
            state,
            OrderActivities.reconcile_order,
            steps.ReconcileInput(
                order_id=order.order_id,
                idempotency_key=state.key("reconcile"),
                account_id=order.account_id,
                app_id=order.app_id,
                from_plan=order.from_plan,
                transaction_id=order.transaction_id,
                overrides=tuple(f for f in _PLATFORM_OVERRIDABLE if f in overrides),
            ),
            summary="match order, payment and account",
        )

    class Overrides:
        def can(self, refusal: Refusal) -> bool:
            return refusal.field is not None and refusal.field != "transaction_id"

        def override(self, refusal: Refusal) -> None:
            assert refusal.field is not None
            overrides.add(refusal.field)

    if bound:
        await decided(state, attempt, overriding=Overrides())
        if "amount" in overrides:
            await _refund_surplus(state)
    else:
        await decided(state, attempt)
    state.end_stage()


async def _refund_surplus(state: RunState) -> None:
    """An approved overpayment: refund what was paid beyond the order, at once (partial)."""
    order = state.order
    surplus = state.paid_amount - order.amount
    if state.paid_currency != order.currency or surplus <= Decimal(0):
        return
    step = SURPLUS_REFUND_STEP
    try:
        result = await must_complete(
            state,
            PaymentActivities.refund_payment,
            steps.RefundInput(
                order_id=order.order_id,
                idempotency_key=state.key(step),
                transaction_id=order.transaction_id,
                payment_method=order.payment_method,
                amount=surplus,
                currency=state.paid_currency,
                reason=f"surplus of an approved overpayment ({state.paid_amount} paid)",
            ),
            summary=f"refund the surplus {surplus} {state.paid_currency}",
        )
    except ActivityError as err:  # refused for good: a person refunds it by hand
        message = f"{step} refused for good: {err.cause or err}"
        state.note_error(message)
        _note(state, step, "refused", message)
        await escalate(state, EscalationReason.COMPENSATION_STUCK)
        return
    if result.applied:
        state.refunded += surplus
    outcome = "done" if result.applied else "nothing_to_undo"
    _note(state, step, outcome, f"{surplus} {state.paid_currency}: {result.detail or 'refunded'}")


def _note(state: RunState, step: str, outcome: str, detail: str) -> None:
    state.compensations.append(
        CompensationRecord.model_validate(
            {"step": step, "outcome": outcome, "at": workflow.now(), "detail": detail[:500]}
        )
    )
    publish(state)
