"""A separate process storing entries one transaction at a time (used by the concurrency test).

usage: python writer_process.py DB WRITER_ID COUNT START_AT
Waits until START_AT (a Unix time) so every writer begins together, then stores COUNT entries.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from agentflowd.memory.store import MemoryStore


def main() -> int:
    db, writer, count, start_at = (
        Path(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    with MemoryStore(db, embed_on_write=False, background="off") as mem:
        time.sleep(max(0.0, start_at - time.time()))
        began = time.time()
        for i in range(count):
            mem.store("shared", f"w{writer}-{i}", f"writer {writer} entry {i}", tags=[f"w{writer}"])
            if i % 100 == 0:
                mem.get("shared", f"w{writer}-{i}")  # readers interleave with the writers
        ended = time.time()
    print(json.dumps({"writer": writer, "began": began, "ended": ended}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
