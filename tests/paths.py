"""Where tests find their reference data: tests/data/ inside the repository (see tests/data/PROVENANCE.md).

Nothing here points outside the repository, so a fresh clone runs the whole suite on its own;
tests/test_self_contained.py guards that no test reads outside it."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
WIRE = DATA / "wire"
APEX_LOGS = DATA / "apex-logs"
METADATA_REGISTRY = DATA / "metadata-registry"
REFERENCE = DATA / "reference"
