#!/usr/bin/env python3
"""Bytes a JVM's threads allocated in time windows, from a recording of jdk.ThreadAllocationStatistics
(bench/alloc.jfc): python3 bench/jfr_alloc.py FILE.jfr START_MS:END_MS ... prints one byte count per
window (epoch milliseconds). Per thread: its last reading at or before the window's end minus its
last reading at or before the start (its first reading, for a thread that began inside the window)."""
import collections
import datetime
import json
import subprocess
import sys


def readings(path):
    raw = subprocess.run(["jfr", "print", "--json", "--events", "jdk.ThreadAllocationStatistics", path],
                         capture_output=True, text=True, check=True).stdout
    by_thread = collections.defaultdict(list)
    for e in json.loads(raw)["recording"]["events"]:
        v = e["values"]
        t = datetime.datetime.fromisoformat(v["startTime"].replace("Z", "+00:00")).timestamp() * 1000
        thread = v.get("thread") or {}
        by_thread[thread.get("javaThreadId") or thread.get("osThreadId")].append((t, v["allocated"]))
    for r in by_thread.values():
        r.sort()
    return by_thread


def window(by_thread, start, end):
    total = 0
    for r in by_thread.values():
        before = [a for t, a in r if t <= start]
        upto = [a for t, a in r if t <= end]
        if not upto:
            continue
        base = before[-1] if before else next(a for t, a in r if t > start)
        total += max(0, upto[-1] - base)
    return total


if __name__ == "__main__":
    data = readings(sys.argv[1])
    for w in sys.argv[2:]:
        s, e = (float(x) for x in w.split(":"))
        print(window(data, s, e))
