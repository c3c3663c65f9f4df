"""`pytest docs/` runs every step of the dojo's pages on the embedded swarm."""

from pathlib import Path

from dojo_exec.sybil import dojo_sybil

pytest_collect_file = dojo_sybil(Path(__file__).parent).pytest()
