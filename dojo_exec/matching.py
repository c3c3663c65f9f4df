"""Promise vs capture: the public face of the matcher (a facade).

* :func:`match` (:mod:`dojo_exec.match`): does a capture fulfil a promise?
* :func:`reconcile` (:mod:`dojo_exec.reconcile`): rewrite a drifted promise to keep a capture.

The parts: :mod:`dojo_exec.elisions` (what authors write for "left out", and its escape),
:mod:`dojo_exec.volatile` (value shapes), :mod:`dojo_exec.lines` (normalising and cutting
into segments), :mod:`dojo_exec.bindings` (one placeholder, one value),
:mod:`dojo_exec.search`, :mod:`dojo_exec.table_match` and :mod:`dojo_exec.json_match`.
"""

from __future__ import annotations

from dojo_exec.elisions import ESCAPED_ELLIPSIS
from dojo_exec.match import MatchResult, match
from dojo_exec.reconcile import reconcile
from dojo_exec.search import STEP_BUDGET, MatchOptions

__all__ = ["ESCAPED_ELLIPSIS", "STEP_BUDGET", "MatchOptions", "MatchResult", "match", "reconcile"]
