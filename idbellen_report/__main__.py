from __future__ import annotations

import sys

from idbellen_report.cli import main

sys.exit(main())
