"""``python -m scout ...``: the same as the ``scout`` command (editors start the server with
``python -m scout serve`` and the interpreter they chose)."""

import sys

from scout.cli import main

sys.exit(main())
