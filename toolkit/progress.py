"""Progress bars: tqdm on a terminal, silent in CI, in pipes and under ``--quiet``."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm.auto import tqdm


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             quiet: bool = False, **kwargs):
    """A tqdm bar over ``iterable`` (or a manual bar when ``iterable`` is None).

    Disabled when ``quiet`` is true or standard error is not a TTY, so logs and CI stay clean.
    """
    disable = quiet or not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False,
                dynamic_ncols=True, file=sys.stderr, **kwargs)
