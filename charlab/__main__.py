"""`python -m charlab …`: see charlab/cli.py."""

import sys

from charlab.cli import main

sys.exit(main())
