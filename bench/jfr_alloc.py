#!/usr/bin/env python3
"""Bytes a JVM's threads allocated in time windows, from a recording of jdk.ThreadAllocationStatistics
(bench/alloc.jfc): python3 bench/jfr_alloc.py FILE.jfr START_MS:END_MS ... prints one byte count per
window (epoch milliseconds). Per thread: its last reading at or before the window's end minus its
last reading at or before the start (its first reading, for a thread that began inside the window).

python3 bench/jfr_alloc.py --pauses FILE.jfr START_MS:END_MS ... prints, per window, the collections
that began in it (jdk.GarbageCollection) as a JSON fragment: their count, the median and longest of
each collection's longest pause, and all their pauses added up, in milliseconds."""
import collections
import datetime
import json
import re
import statistics
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


def millis(duration):
    """An ISO-8601 duration as jfr prints it (PT0.0105S, PT1M2.5S) in milliseconds."""
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", duration)
    h, mi, sec = (float(g) if g else 0.0 for g in m.groups())
    return (h * 3600 + mi * 60 + sec) * 1000


def gc_events(path):
    raw = subprocess.run(["jfr", "print", "--json", "--events", "jdk.GarbageCollection", path],
                         capture_output=True, text=True, check=True).stdout
    out = []
    for e in json.loads(raw)["recording"]["events"]:
        v = e["values"]
        t = datetime.datetime.fromisoformat(v["startTime"].replace("Z", "+00:00")).timestamp() * 1000
        out.append((t, millis(v["longestPause"]), millis(v["sumOfPauses"])))
    return out


def pauses(gcs, start, end):
    inside = [(longest, total) for t, longest, total in gcs if start <= t <= end]
    longest = [p for p, _ in inside]
    return json.dumps({"count": len(inside),
                       "p50_ms": round(statistics.median(longest), 3) if longest else 0,
                       "max_ms": round(max(longest), 3) if longest else 0,
                       "total_ms": round(sum(t for _, t in inside), 3)})


if __name__ == "__main__":
    if sys.argv[1] == "--pauses":
        gcs = gc_events(sys.argv[2])
        for w in sys.argv[3:]:
            s, e = (float(x) for x in w.split(":"))
            print(pauses(gcs, s, e))
        sys.exit(0)
    data = readings(sys.argv[1])
    for w in sys.argv[2:]:
        s, e = (float(x) for x in w.split(":"))
        print(window(data, s, e))
