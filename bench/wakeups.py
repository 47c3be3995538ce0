#!/usr/bin/env python3
"""Wake-ups and CPU per request, by thread, of one process (Linux /proc).

    wakeups.py PID snapshot FILE            save every thread's counters
    wakeups.py PID report FILE REQUESTS     print what each thread group did since FILE, per request

A thread that sleeps and is woken counts one voluntary context switch, so at concurrency 1 the
voluntary switches per request are the number of times each thread was put to sleep and woken
for one request: the hand-offs of the request path (event loop, virtual-thread carriers, the
socket poller, timer threads). Threads are grouped by name with digits removed.
"""
import json
import os
import re
import subprocess
import sys


def java_names(pid):
    """Full thread names of a JVM by native id (/proc truncates names to 15 characters)."""
    try:
        dump = subprocess.run(["jcmd", str(pid), "Thread.print"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {str(int(nid, 16)): name for name, nid in re.findall(r'^"([^"]+)".*? nid=(0x[0-9a-f]+)', dump, re.M)}


def snapshot(pid):
    threads = {}
    names = java_names(pid)
    hz = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = f.read()
        except OSError:
            continue
        name = names.get(tid) or stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        cpu_ms = (int(fields[11]) + int(fields[12])) * 1000 / hz
        voluntary = int(re.search(r"voluntary_ctxt_switches:\s+(\d+)", status).group(1))
        involuntary = int(re.search(r"nonvoluntary_ctxt_switches:\s+(\d+)", status).group(1))
        threads[tid] = {"name": name, "cpu_ms": cpu_ms, "vol": voluntary, "invol": involuntary}
    return threads


def report(before, after, requests):
    groups = {}
    for tid, now in after.items():
        was = before.get(tid, {"cpu_ms": 0, "vol": 0, "invol": 0})
        key = re.sub(r"\d+", "#", now["name"])
        g = groups.setdefault(key, {"threads": 0, "cpu_ms": 0.0, "vol": 0, "invol": 0})
        d_vol = now["vol"] - was["vol"]
        d_cpu = now["cpu_ms"] - was["cpu_ms"]
        if d_vol == 0 and d_cpu == 0:
            continue
        g["threads"] += 1
        g["cpu_ms"] += d_cpu
        g["vol"] += d_vol
        g["invol"] += now["invol"] - was["invol"]
    rows = sorted(((k, g) for k, g in groups.items() if g["threads"]), key=lambda kv: -kv[1]["vol"])
    print(f"| thread | threads | wake-ups/req | preempted/req | CPU µs/req |")
    print("|---|---|---|---|---|")
    total_vol = total_cpu = 0.0
    for key, g in rows:
        total_vol += g["vol"]
        total_cpu += g["cpu_ms"]
        print(f"| {key} | {g['threads']} | {g['vol'] / requests:.2f} | {g['invol'] / requests:.3f} | "
              f"{g['cpu_ms'] * 1000 / requests:.1f} |")
    print(f"| **all** | | {total_vol / requests:.2f} | | {total_cpu * 1000 / requests:.1f} |")


def main():
    pid, action, path = sys.argv[1], sys.argv[2], sys.argv[3]
    if action == "snapshot":
        with open(path, "w") as f:
            json.dump(snapshot(pid), f)
    elif action == "report":
        with open(path) as f:
            before = json.load(f)
        report(before, snapshot(pid), int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
