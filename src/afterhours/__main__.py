"""`python -m afterhours` runs the CLI."""

import sys

from afterhours.cli import main

sys.exit(main())
