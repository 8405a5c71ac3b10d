from __future__ import annotations

import sys

from agentflowd.cli import main

sys.exit(main())
