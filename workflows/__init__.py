"""Orchestration only: the `upgrade-activation` saga, its timing and retry policies, compensation.

No I/O here. Top-level imports are the stdlib and `temporalio`; our domain modules and pydantic
come in through `workflow.unsafe.imports_passed_through()`.
"""
