"""Random streams: a Generator is always passed in; parallel work gets spawned children.

Never seed the global NumPy state. A task that runs in another process receives a
``np.random.SeedSequence`` (picklable, independent of the number of workers) and builds its own
Generator from it, so a sweep gives bit-identical results whatever executor runs it.
"""

from __future__ import annotations

import numpy as np

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def make_rng(seed: SeedLike = None) -> np.random.Generator:
    """A ``np.random.Generator`` (PCG64) from an int, a SeedSequence, or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not isinstance(seed, np.random.SeedSequence):
        seed = check_seed(seed)
    return np.random.default_rng(seed)


def check_seed(seed) -> int:
    """Validate a user-facing seed: a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def spawn_seeds(seed: int | np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child SeedSequences of ``seed`` (task ``k`` always gets child ``k``)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(check_seed(seed))
    return ss.spawn(int(n))
