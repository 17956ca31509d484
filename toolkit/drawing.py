"""Figures on request: computing commands ask for a drawing by name, the figures package provides it.

``theory/`` and ``numerics/`` compute and never import ``figures/`` (the floors of the house); yet their
commands (``python -m theory.phase_diagram``, ``python -m numerics.accessibility``,
``python -m numerics.learning.experiments``) end by writing a PNG next to their CSVs. The link is made
by the installed package, not by the code: ``pyproject.toml`` declares entry points in the group
:data:`GROUP` (name -> ``figures.<module>:<function>``), and :func:`draw` looks the name up through
``importlib.metadata``. Without an installed drawer (matplotlib missing, a source tree used without
``pip install -e .``) :func:`draw` returns None and the command says that only the CSVs were written.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

__all__ = ["GROUP", "draw", "drawer"]

GROUP = "dynlearn_toolkit.drawers"


def drawer(name: str):
    """The callable registered under ``name`` in :data:`GROUP`, or None when none is installed."""
    for ep in importlib.metadata.entry_points(group=GROUP):
        if ep.name == name:
            try:
                return ep.load()
            except ImportError:
                return None
    return None


def draw(name: str, *args, **kwargs) -> Path | None:
    """Call the drawer ``name`` with the given arguments; None when no drawer is installed."""
    fn = drawer(name)
    return None if fn is None else fn(*args, **kwargs)
