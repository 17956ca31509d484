"""The local learning rule of SPEC 11 and what it needs: datasets (SPEC 12), model, training.

Submodules are imported explicitly (``from numerics.learning import datasets``), so importing the
package stays cheap.
"""
