"""`python3 -m heaplab_report`: the command line (see cli.py)."""
import sys

from .cli import main

sys.exit(main())
