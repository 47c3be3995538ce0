#!/usr/bin/env python3
"""Summarises CPU-time samples of a flight recording by thread, with each busy thread's hottest
stacks: python3 bench/jfr_threads.py FILE.jfr [EVENT] (EVENT defaults to jdk.CPUTimeSample)."""
import collections
import json
import subprocess
import sys


def frames(event):
    stack = event["values"].get("stackTrace") or {}
    out = []
    for f in stack.get("frames", []):
        m = f["method"]
        out.append(f"{m['type']['name'].rsplit('.', 1)[-1]}.{m['name']}")
    return out


def main(path, event_type="jdk.CPUTimeSample", depth=6, top=6):
    raw = subprocess.run(["jfr", "print", "--json", "--stack-depth", "64", "--events", event_type, path],
                         capture_output=True, text=True, check=True).stdout
    events = json.loads(raw)["recording"]["events"]
    by_thread = collections.Counter()
    stacks = collections.defaultdict(collections.Counter)
    for e in events:
        v = e["values"]
        thread = (v.get("eventThread") or v.get("sampledThread") or {}).get("javaName") or "?"
        by_thread[thread] += 1
        fs = frames(e)
        stacks[thread][" < ".join(fs[:depth])] += 1
    total = sum(by_thread.values())
    print(f"{total} {event_type} samples")
    for thread, n in by_thread.most_common(12):
        print(f"\n{n:5d} {100 * n / total:5.1f}%  {thread}")
        for stack, k in stacks[thread].most_common(top):
            print(f"      {k:4d}  {stack}")


if __name__ == "__main__":
    main(sys.argv[1], *(sys.argv[2:3]))
