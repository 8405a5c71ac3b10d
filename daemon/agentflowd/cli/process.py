"""Whether a process recorded by pid (a daemon, a run's owner) is still there."""

from __future__ import annotations

import os
from typing import Any


def alive(pid: Any) -> bool:
    """True while `pid` names a live process, also one owned by another user; False for
    anything that is not a positive pid (a record may hold none, or garbage)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
