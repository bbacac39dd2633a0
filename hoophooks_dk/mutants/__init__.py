"""Mutation testing for hooks (``hookdk mutants``): do the repository's tests fail when
the hooks regress? ``catalogue`` holds the regressions, ``run`` runs the tests against
each in a copy of the repository. See docs/mutants.md."""

from .catalogue import CATALOGUE, Mutant, apply, by_name
from .run import Outcome, baseline, run_mutants

__all__ = ["CATALOGUE", "Mutant", "Outcome", "apply", "baseline", "by_name", "run_mutants"]
