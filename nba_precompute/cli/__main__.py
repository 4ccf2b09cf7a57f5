"""``python -m nba_precompute.cli``: the ``nba-precompute`` program."""

import sys

from nba_precompute.cli.main import main

sys.exit(main())
