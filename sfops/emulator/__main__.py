"""`python -m sfops.emulator ...`: run the emulator in the foreground (see runner.main)."""

import sys

from sfops.emulator.runner import main

sys.exit(main())
