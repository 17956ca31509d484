"""``python -m numerics.learning.experiments``: see :mod:`numerics.learning.experiments`."""

import sys

from toolkit.cli import run

from .cli import main
from .settings import _CLI

sys.exit(run(main, prog=_CLI))
