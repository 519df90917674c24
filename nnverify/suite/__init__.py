"""The property suite: named laws a forward pass must obey, run with Hypothesis.

Each property is checked on the implementation under test (nnverify's NumPy forward pass by
default, or a user's function, see :mod:`nnverify.under_test`) against the exact model. Float
tolerances are never hand-picked: every "within bound" below uses the rigorous per-output
bound of :func:`nnverify.bounds.forward_error_bounds`, the distance any correct float
computation in the network's dtype may have from the exact value. When two float results
approximate the *same* exact value, they may differ by at most the sum of their two bounds
(triangle inequality); that is how batch consistency, hidden-unit permutation, sigmoid
symmetry and the softmax shift law get their tolerances. Differences of floats are compared
as exact rationals, so no extra rounding enters the comparison.

A single activation (sigmoid, softmax) is checked as the one-layer network ``W = I``,
``b = 0`` with that activation: ``x @ I + 0`` is exact, so the exact model and the bound of
that network are the exact model and a (slightly generous) bound of the activation itself.

The properties (``PROPERTIES``, in run order):

- ``agreement``: outputs within the derived bound of the certified exact values;
- ``sigmoid-range``: exact sigmoid strictly in (0, 1) (proved by SymPy); float in [0, 1],
  finite, no warnings, for all finite inputs including huge ones;
- ``identity-output``: ``y`` equals ``a^{(L)}`` — bitwise in floats, identically in the model;
- ``softmax-laws``: in [0, 1]; sums to 1 within bound; shift invariance; order preserving;
  no overflow for large logits; row-wise on batches;
- ``batch-consistency``: a batch gives the rows one-by-one calls give, within bound;
- ``hidden-permutation``: permuting a hidden layer's units with their weights leaves ``y``
  unchanged within bound;
- ``sigmoid-symmetry``: sigma(-a) = 1 - sigma(a) identically in the model, within bound in
  floats; sigma non-decreasing (within bound);
- ``worst-case``: ``hypothesis.target`` on the ULP error steers the search to the worst input;
  that input and its error are reported.

Modules: :mod:`.config` (what runs), :mod:`.cases` (the strategies), :mod:`.laws` (one module per
family of laws), :mod:`.within` (the shared bound check), :mod:`.runner` (Hypothesis),
:mod:`.results` (the verdicts as data).
"""

from __future__ import annotations

from nnverify.lazy import lazy_exports

# Names load on first use: the laws and the runner import Hypothesis, and the command line
# reads PROFILES and PROPERTY_NAMES (for its options) without paying for it.
_WHERE = {name: f"nnverify.suite.{module}" for name, module in {
    "PROFILES": "config",
    "PROPERTY_NAMES": "config",
    "SuiteConfig": "config",
    "Counterexample": "results",
    "PropertyResult": "results",
    "SuiteResult": "results",
    "PROPERTIES": "laws",
    "LawBroken": "laws",
    "Property": "laws",
    "get_property": "laws",
    "property_names": "laws",
    "run_property": "runner",
    "run_suite": "runner",
}.items()}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _WHERE)
