"""Shared conventions for every floor of the toolkit.

`theory/` and `numerics/` never import each other; both may import this package, which holds the
conventions they share and nothing scientific:

- :mod:`toolkit.results`  -- atomic CSV / ``.npz`` writers with a JSON provenance sidecar;
- :mod:`toolkit.rng`      -- ``np.random.Generator`` construction and ``SeedSequence`` spawning;
- :mod:`toolkit.progress` -- a tqdm progress bar that is silent off a TTY or when asked;
- :mod:`toolkit.cli`      -- the command-line pattern (``--out --seed --quiet``, grids, one-line errors).
"""

__version__ = "0.1.0"
