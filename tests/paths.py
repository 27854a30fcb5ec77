"""Where tests find the shared reference data (../shared next to the repo; present in CI)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = (REPO.parent / "shared").resolve()
WIRE = SHARED / "data" / "wire"
APEX_LOGS = SHARED / "data" / "apex-logs"
METADATA_REGISTRY = SHARED / "data" / "metadata-registry"
REFERENCE = SHARED / "reference"
