"""The two model bases: both immutable; only the strict one refuses unknown fields."""

import pydantic
import pytest

from domain.frozen import Frozen, StrictFrozen


class Recorded(Frozen):
    stage: str


class Sent(StrictFrozen):
    stage: str


def test_frozen_ignores_an_unknown_field_so_newer_histories_still_decode() -> None:
    assert Recorded.model_validate({"stage": "active", "added_later": 1}) == Recorded(
        stage="active"
    )


def test_strict_frozen_names_the_unknown_field() -> None:
    with pytest.raises(pydantic.ValidationError, match="typo"):
        Sent.model_validate({"stage": "active", "typo": 1})


def test_both_are_immutable() -> None:
    for model in (Recorded(stage="a"), Sent(stage="a")):
        with pytest.raises(pydantic.ValidationError):
            model.stage = "b"  # type: ignore[misc]
