"""One row of the validation report's verdict table (:mod:`validation.report`, :mod:`validation.grid`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOT_MEASURED", "Verdict"]

NOT_MEASURED = "not measured"


@dataclass
class Verdict:
    """comparison | measured | tolerance | passed, and why the tolerance is what it is. ``passed`` is
    "pass", "FAIL", "consistent", "inconsistent", a statement of which threshold a measurement
    follows, or "not measured" (possibly with the reason after a colon)."""

    comparison: str
    measured: str
    tolerance: str
    passed: str
    why: str = ""
