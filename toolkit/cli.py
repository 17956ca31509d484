"""The command-line pattern shared by every entry point.

Every command:
- has ``--help``; ``--out`` (a results directory), ``--seed`` and ``--quiet`` where they apply;
- parses grids as ``a,b,c`` or ``start:stop:num`` (inclusive, like ``numpy.linspace``);
- on bad input prints *one* line ``prog: error: reason`` to stderr and exits with status 2
  (never a traceback); :class:`UsageError`, ``ValueError`` and ``OSError`` raised inside the command
  are reported the same way.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence

import numpy as np

from toolkit.memory import retain_freed_memory


class UsageError(ValueError):
    """Bad user input, reported as a one-line message and exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2.

    Values that start with a minus sign and a digit (``--J-D -0.25:2:46``, ``--J-D -1,0``) are read as
    values, not as options: argparse's own rule only knows plain negative numbers.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: X)" to an option's help only when the help does not state its default itself
    and there is one to state (not None, not a flag: "--no-x (default: True)" reads as if the flag
    were on by default): one default per option, never two."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text.lower() or action.default in (None, argparse.SUPPRESS)
                or action.nargs == 0):
            return text
        return super()._get_help_string(action)


def make_parser(prog: str, description: str, *, out: str | None = None, seed: int | None = None,
                quiet: bool = True) -> ArgumentParser:
    p = ArgumentParser(prog=prog, description=description, formatter_class=HelpFormatter)
    if out is not None:
        p.add_argument("--out", default=out, help="output directory")
    if seed is not None:
        p.add_argument("--seed", type=nonneg_int, default=seed, help="random seed")
    if quiet:
        p.add_argument("--quiet", action="store_true", help="no progress bars or chatter")
    return p


def _number(text: str, cast=float) -> float:
    try:
        v = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if cast is float and not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return v


def finite_float(text: str) -> float:
    return _number(text)


def nonneg_float(text: str) -> float:
    v = _number(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return v


def positive_int(text: str) -> int:
    v = _number(text, int)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return v


def nonneg_int(text: str) -> int:
    v = _number(text, int)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return v


def parse_grid(text: str, *, name: str = "grid", minimum: float | None = None) -> np.ndarray:
    """``"0,0.5,1"`` or ``"start:stop:num"`` (inclusive) to a finite float array; UsageError otherwise."""
    text = str(text).strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop = float(parts[0]), float(parts[1])
            num = int(parts[2])
            if num < 1:
                raise UsageError(f"{name}: the number of points must be >= 1, got {parts[2]!r}")
            values = np.linspace(start, stop, num)
        else:
            values = np.array([float(t) for t in text.split(",") if t.strip() != ""])
    except UsageError:
        raise
    except ValueError:
        raise UsageError(f"{name}: expected 'a,b,c' or 'start:stop:num', got {text!r}") from None
    if values.size == 0:
        raise UsageError(f"{name}: empty grid")
    if not np.all(np.isfinite(values)):
        raise UsageError(f"{name}: values must be finite, got {text!r}")
    if minimum is not None and np.any(values < minimum):
        raise UsageError(f"{name}: values must be >= {minimum}, got {text!r}")
    return values


def int_list(text: str, name: str, minimum: int, maximum: int | None = None) -> list[int]:
    """Comma-separated integers, each ≥ ``minimum`` (and ≤ ``maximum``), or a :class:`UsageError`."""
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"{name}: expected comma-separated integers, got {text!r}") from None
    if maximum is None:
        if not values or any(v < minimum for v in values):
            raise UsageError(f"{name}: values must be integers >= {minimum}, got {text!r}")
    elif not values or any(not minimum <= v <= maximum for v in values):
        raise UsageError(f"{name}: values must lie in [{minimum}, {maximum}], got {text!r}")
    return values


def grid_type(name: str, minimum: float | None = None,
              allow_empty: bool = False) -> Callable[[str], np.ndarray]:
    """An argparse ``type=`` for :func:`parse_grid`; ``allow_empty``: '' gives an empty grid."""
    def _parse(text: str) -> np.ndarray:
        if allow_empty and not text.strip():
            return np.empty(0)
        try:
            return parse_grid(text, name=name, minimum=minimum)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    _parse.__name__ = name
    return _parse


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None,
        prog: str | None = None) -> int:
    """Run ``main(argv)`` and turn user-facing errors into one line on stderr and exit status 2."""
    prog = prog or getattr(main, "__module__", "command")
    retain_freed_memory()
    try:
        return int(main(argv) or 0)
    except (UsageError, ValueError, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"{prog}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
