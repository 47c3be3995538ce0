#!/usr/bin/env python3
"""Each stream's first token split into its phases (bin/cleargate bench tail ARM stream).

usage: jfr_stream_phases.py TIMELINE JFR [SLOW_TTFT_MS]

TIMELINE and JFR as for bench/jfr_stream_tail.py; the recording must hold every virtual thread's
start and every socket read, unthrottled (bench_tail records them for a stream run). A measured stream
is matched to the first request thread ("chat-...") that started after the driver sent it, and its
time to first token is cut at what that thread did:

  accept    the driver's send until the request's virtual thread first ran (the event loop read the
            request and handed it over; the thread waited for the carrier);
  request   until the thread began to read the upstream's answer: the stages' request phases (key,
            tenant, policy, input moderation, routing, the durable request record), taking a
            connection and writing the request;
  upstream  until that first read returned (the mock answers at once, so this is mostly the
            wake-up: the poller, then the carrier);
  deliver   until the driver had the token: the first chunk through the response stages, the
            headers and frame handed to the event loop, its write and the driver's read.

It prints each phase's median and p95 over all streams, and for the streams over SLOW_TTFT_MS (default:
the run's p95) each phase's excess over its median, summed, then the slow ones one by one with what
the recording saw in their largest phase: journal forces (the audit writer's and the applier's), a
collector pause, questions to OPA, and the CPU samples taken meanwhile by what they ran.
"""
import bisect
import collections
import os
import statistics
import sys
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jfr_profile  # noqa: E402
import jfr_tail  # noqa: E402

PHASES = ("accept", "request", "upstream", "deliver")


def micros(iso):
    """'2026-12-03T13:58:54.431085460Z' -> epoch microseconds (float)."""
    head, frac = iso.rstrip("Z").split(".")
    whole = datetime.fromisoformat(head + "+00:00").timestamp()
    return whole * 1e6 + int(frac.ljust(9, "0")[:9]) / 1e3


def duration_us(text):
    """ISO-8601 'PT0.000296148S' (or with minutes) -> microseconds."""
    body = text[2:]
    minutes = 0.0
    if "M" in body:
        m, body = body.split("M", 1)
        minutes = float(m)
    seconds = float(body.rstrip("S") or 0)
    return (minutes * 60 + seconds) * 1e6


def load(path):
    events = collections.defaultdict(list)
    # One kind at a time, socket reads with 12 frames (OpaClient is the 6th under a read): with every
    # socket read recorded, one JSON print of all kinds at 96 frames outgrew the machine's memory.
    kinds = [("jdk.VirtualThreadStart", 1), ("jdk.SocketRead", 12), ("jdk.SocketWrite", 1), ("jdk.FileForce", 1),
             ("jdk.GarbageCollection", 1), ("jdk.CPUTimeSample", 96)]
    for e in (e for kind, depth in kinds for e in jfr_profile.read(path, kind, depth)):
        v = e["values"]
        start = micros(v["startTime"])
        dur = duration_us(v["duration"]) if "duration" in v else 0.0
        events[e["type"]].append({
            "start": start, "end": start + dur, "thread": jfr_profile.thread_name(e),
            "port": v.get("port"), "bytes": v.get("bytesRead", v.get("bytesWritten")),
            "frames": jfr_profile.frames(e) if e["type"] in ("jdk.CPUTimeSample", "jdk.SocketRead") else None,
            "path": v.get("path"),
        })
    for kind in events:
        events[kind].sort(key=lambda x: x["start"])
    return events


def pct(values, p):
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-p * len(s) // 100) - 1))]


def split(streams, events):
    """Per measured stream: its send, token and phase boundaries, or None when its thread was not found."""
    starts = [e for e in events["jdk.VirtualThreadStart"] if e["thread"].startswith("chat-")]
    start_times = [e["start"] for e in starts]
    reads = collections.defaultdict(list)
    for e in events["jdk.SocketRead"]:
        if e["thread"].startswith("chat-") and (e["bytes"] or 0) > 0 and not jfr_tail.asks_opa(e):
            reads[e["thread"]].append(e)
    used = set()
    out = []
    for send, ttft in streams:
        token = send + ttft
        i = bisect.bisect_left(start_times, send - 2000)
        found = None
        while i < len(starts) and starts[i]["start"] <= token:
            if starts[i]["thread"] not in used:
                found = starts[i]
                break
            i += 1
        if found is None:
            out.append(None)
            continue
        used.add(found["thread"])
        # The thread's first read of the upstream starts once the request went out (the write itself is
        # not recorded: the client writes with a gathering write, which JFR does not see).
        read = next((r for r in reads[found["thread"]] if r["start"] >= found["start"]), None)
        if read is None or read["end"] > token + 2000:
            out.append(None)
            continue
        marks = [send, found["start"], read["start"], read["end"], token]
        out.append({"send": send, "token": token, "thread": found["thread"], "marks": marks,
                    "phases": [max(0.0, b - a) for a, b in zip(marks, marks[1:])]})
    return out


def overlapping(events, kind, start, end, test=lambda e: True):
    return [e for e in events[kind] if e["start"] <= end and e["end"] >= start and test(e)]


def seen(events, thread, start, end):
    forces = overlapping(events, "jdk.FileForce", start, end)
    gcs = overlapping(events, "jdk.GarbageCollection", start, end)
    opa = overlapping(events, "jdk.SocketRead", start, end, jfr_tail.asks_opa)
    cpu = collections.Counter()
    for s in overlapping(events, "jdk.CPUTimeSample", start, end):
        who = "this stream's thread" if s["thread"] == thread else \
            jfr_profile.category(s["thread"], s["frames"] or [])
        cpu[who] += 1
    parts = []
    for f in forces:
        parts.append(f"force by {f['thread']} {(f['end'] - f['start']) / 1000:.1f} ms")
    for g in gcs:
        parts.append(f"GC {(g['end'] - g['start']) / 1000:.1f} ms")
    if opa:
        parts.append(f"OPA reads {len(opa)}")
    if cpu:
        parts.append("CPU samples: " + ", ".join(f"{k} {n}" for k, n in cpu.most_common(5)))
    return "; ".join(parts) or "nothing recorded"


def main():
    timeline, jfr = sys.argv[1], sys.argv[2]
    streams = []
    for line in open(timeline):
        kind, at, us = line.split()
        if kind == "s":
            streams.append((int(at), int(us)))
    events = load(jfr)
    rows = split(streams, events)
    found = [r for r in rows if r]
    print(f"{len(found)} of {len(streams)} streams matched to their request thread.")
    print()
    if not found:
        return
    ttfts = [t for _, t in streams]
    slow = float(sys.argv[3]) * 1000 if len(sys.argv) > 3 else pct(ttfts, 95)
    medians = [statistics.median(r["phases"][k] for r in found) for k in range(len(PHASES))]
    print("| phase | median ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    for k, name in enumerate(PHASES):
        v = [r["phases"][k] for r in found]
        print(f"| {name} | {medians[k] / 1000:.2f} | {pct(v, 95) / 1000:.2f} | {max(v) / 1000:.2f} |")
    print()
    slow_rows = [r for r in found if r["token"] - r["send"] > slow]
    print(f"First tokens over {slow / 1000:.2f} ms ({len(slow_rows)} matched): each phase's time over its median, summed,")
    print("and how many of them had it as their largest excess:")
    print()
    print("| phase | ms over the median, summed | largest in |")
    print("|---|---|---|")
    largest = collections.Counter()
    for r in slow_rows:
        excess = [p - m for p, m in zip(r["phases"], medians)]
        largest[PHASES[excess.index(max(excess))]] += 1
    for k, name in enumerate(PHASES):
        total = sum(max(0.0, r["phases"][k] - medians[k]) for r in slow_rows)
        print(f"| {name} | {total / 1000:.1f} | {largest[name]} |")
    print()
    print("The slow ones (phases in ms: accept / request / upstream / deliver), with what the recording saw in")
    print("the largest phase:")
    print()
    for r in sorted(slow_rows, key=lambda r: r["send"] - r["token"]):
        excess = [p - m for p, m in zip(r["phases"], medians)]
        k = excess.index(max(excess))
        a, b = r["marks"][k], r["marks"][k + 1]
        phases = " / ".join(f"{p / 1000:.2f}" for p in r["phases"])
        print(f"* {(r['token'] - r['send']) / 1000:.2f} ms ({phases}); {PHASES[k]}: {seen(events, r['thread'], a, b)}")
    print()


if __name__ == "__main__":
    main()
