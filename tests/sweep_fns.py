"""Module-level sweep functions for the sweep tests (picklable for process pools)."""

import os

import numpy as np

from toolkit.rng import make_rng


def draw(seed, *, n, fail_marker=None, key=None):
    """Draw ``n`` normals; if ``fail_marker`` names an existing file and ``key`` matches, raise."""
    if fail_marker and os.path.exists(fail_marker) and key == "t3":
        raise RuntimeError("simulated crash")
    x = make_rng(seed).standard_normal(n)
    return {"x": x, "mean": x.mean()}
