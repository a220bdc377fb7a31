"""How many generated cases each property test tried; conftest prints them after the run."""

from collections import Counter

CASES: Counter[str] = Counter()


def tally(name: str) -> None:
    """Count one generated case for `name` (called from inside each property test)."""
    CASES[name] += 1
