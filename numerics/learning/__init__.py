"""The local learning rule of SPEC 11 and what it needs: datasets (SPEC 12), model, training.

Submodules are imported explicitly (``from numerics.learning import datasets``), so importing the
package stays cheap.
"""

__all__ = ["Model", "ModelConfig", "fit", "predict", "train_step"]
_WHERE = {"Model": "model", "ModelConfig": "model", "predict": "model", "train_step": "model",
          "fit": "train"}


def __getattr__(name):  # lazy (PEP 562): ``python -m numerics.learning.<module>`` stays clean
    if name in _WHERE:
        from importlib import import_module
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
