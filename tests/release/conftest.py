"""The release tests import their helpers from release_support (a uniquely named module)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
