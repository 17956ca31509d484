"""The local learning rule of SPEC 11 and what it needs: datasets (SPEC 12), model, training.

Submodules are imported explicitly (``from numerics.learning import datasets``), so importing the
package stays cheap.
"""

from .model import Model, ModelConfig, predict, train_step  # noqa: E402,F401
from .train import fit  # noqa: E402,F401

__all__ = ["Model", "ModelConfig", "fit", "predict", "train_step"]
