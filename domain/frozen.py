"""The two bases of every domain model: immutable values, strict or tolerant about extra fields.

- `Frozen`: immutable; unknown fields are ignored. For what the saga records and reads back
  (activity inputs and results, the status, the policy, the catalog): a history written by a
  newer version, with a field this one lacks, still decodes.
- `StrictFrozen`: immutable; an unknown field is refused with an error naming it. For what a
  client sends (the order, a payment notice, a decision): a misspelt field must not be dropped.
"""

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class StrictFrozen(Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid")
