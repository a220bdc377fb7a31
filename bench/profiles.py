"""How much each benchmark mode runs: the counts, chosen for the time they take on 2 cores.

- `full` (`make bench`): 3 repetitions x 4 variants x concurrency 1, 16, 64; 30 orders of one
  account paid at once; scale 1k/5k/10k parked; a 2,000-notification burst; 300 upgrades with
  the workflow cache off. About 30 minutes on 2 cores (measured on 2026-11-24, before the
  account lease: ~60 ms of worker CPU per REAL upgrade, ~15 ms per parked one); the lease added
  events to REAL and B3, the same-account burst and the lease's history reads, not yet timed in
  a full run: docs/benchmarks.md records the measured duration.
- `quick` (`make bench-quick`): one repetition, a few dozen upgrades per cell, 10 orders of one
  account, scale to 1,000, a 200-notification burst: about 2-3 minutes, for checking the
  harness, not for numbers.
- `tiny` (the test): two upgrades per cell, concurrency 1 and 2, 3 orders of one account, a
  handful parked.

Boundary: numbers only.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    repetitions: int
    # Upgrades per run, by concurrency: enough for the run to last several seconds at that
    # concurrency, so that start-up and drain are small against the steady state.
    upgrades: dict[int, int]
    scale_levels: tuple[int, ...]
    burst: int
    replay_upgrades: int
    replay_concurrency: int
    # Orders of one account paid at once (`bench.same_account`): they run one after another, and
    # every change of holder tells each waiting order its place, so the cost grows faster than N
    # (40 orders took 160 s on this machine under load 5-7: hence 30 in the full run).
    same_account: int
    warmup_upgrades: int = 4  # per variant, before anything is measured

    @property
    def concurrencies(self) -> tuple[int, ...]:
        return tuple(self.upgrades)


PROFILES = {
    "full": Profile(
        name="full",
        repetitions=3,
        upgrades={1: 30, 16: 160, 64: 320},
        scale_levels=(1_000, 5_000, 10_000),
        burst=2_000,
        replay_upgrades=300,
        replay_concurrency=16,
        same_account=30,
    ),
    "quick": Profile(
        name="quick",
        repetitions=1,
        upgrades={1: 8, 16: 48, 64: 96},
        scale_levels=(200, 500, 1_000),
        burst=200,
        replay_upgrades=48,
        replay_concurrency=16,
        same_account=10,
    ),
    "tiny": Profile(
        name="tiny",
        repetitions=1,
        upgrades={1: 2, 2: 2},
        scale_levels=(3, 6),
        burst=2,
        replay_upgrades=2,
        replay_concurrency=2,
        same_account=3,
        warmup_upgrades=1,
    ),
}
