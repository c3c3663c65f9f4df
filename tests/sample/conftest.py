"""The sample pages run as pytest items in a plain shell (no machines needed)."""

from pathlib import Path

from dojo_exec.sybil import dojo_sybil

pytest_collect_file = dojo_sybil(Path(__file__).parent, driver="none").pytest()
