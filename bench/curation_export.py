"""Child process of bench/curation.py: the memory of one CSV export in a fresh process.

Prints ``EXPORT {json}``: the resident memory when idle (Django set up, one
small request served), the peak during GET /api/models/export?format=csv read
chunk by chunk as a client would, and the seconds and bytes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def status_mib(key: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    assert client.get("/api/tags").status_code == 200
    idle = status_mib("VmRSS")
    # Linux: writing 5 resets VmHWM (the peak) to the current resident size.
    with open(f"/proc/{os.getpid()}/clear_refs", "w") as refs:
        refs.write("5")
    start = time.perf_counter()
    response = client.get("/api/models/export", {"format": "csv"})
    size = sum(len(chunk) for chunk in response.streaming_content)
    seconds = time.perf_counter() - start
    peak = status_mib("VmHWM")
    print("EXPORT " + json.dumps({"idle": idle, "peak": peak, "seconds": seconds, "bytes": size}))


if __name__ == "__main__":
    main()
