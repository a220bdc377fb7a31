"""Orchestration only: the `upgrade-activation` saga, its timing and retry policies, compensation.

No I/O here. Top-level imports are the stdlib, `temporalio` and this package; our domain modules,
the activity classes and pydantic come in through `workflow.unsafe.imports_passed_through()`.
Only the modules that define a workflow class (`upgrade`, `account_lease`, `custody`) run in each
run's sandbox; every other module here is passed through it, imported once and shared by all runs
(`service.worker_setup.WORKFLOW_HELPERS`), so none of them may keep state or read a clock of its
own: `tests/workflows/test_passthrough_determinism.py` holds them to that.

    upgrade.py          the workflow class: run, `status` query, updates; `FORWARD`, the stage order
    stages/<stage>.py   one module per forward stage, named after its `Stage` value
    state.py            `RunState`, the run's state, passed explicitly to everything below
    calls.py            activity calls by discipline (forward, interruptible, must-complete,
                        best-effort) and waits, all watching for `cancel`
    exits.py            `SagaEnd` and `Refusal`: how a run leaves the forward path
    decisions.py        operator decisions and the `needs_attention` side stage
    compensation.py     undo newest first, refund, and the `compensating` side stage
    escalation.py       tickets: activation SLA, payment overdue, refusals; closing them
    ending.py           finishing a run in its terminal stage
    messages.py         validation of the updates
    visibility.py       status and ETA, search attributes, the UI's current details
    details.py          the current-details markdown and an escalation's likely cause
    policies.py         timeouts and retry policies, by name
    metrics.py          business metrics
    search_attributes.py  the custom search attribute keys
"""
