"""``python -m nilecare_clients`` runs the ``nilecare-clients`` command."""

import sys

from nilecare_clients.cli import main

sys.exit(main())
