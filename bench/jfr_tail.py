#!/usr/bin/env python3
"""Where the slow requests at concurrency 1 come from (bin/cleargate bench tail).

usage: jfr_tail.py TIMELINE JFR [SLOW_MS]

TIMELINE is bench/driver/c1client.c's -T output ("epoch_micros latency_micros status" per request),
JFR the gateway's flight recording over the same window. Every request slower than SLOW_MS (default:
the run's p99) is laid beside what the recording saw while it was in flight:

  * a collector pause (jdk.GarbageCollection), the whole JVM stopped;
  * a scheduled job on a worker thread (CPU samples of Quarkus' executor threads; and of the audit
    background threads: the checkpoint signer, the readiness write probe), competing for the one core;
  * the audit journal's applier inserting journaled records into H2 or forcing H2's file (CPU samples
    of the audit-applier thread, or a force of its), on the same core and disk;
  * a question to OPA (a socket read of the policy client; its own CPU runs in OPA's process);
  * a slow fsync of the audit store (jdk.FileForce over 1 ms);
  * a slow read of the upstream's answer (jdk.SocketRead of the engine client over 1 ms);
  * the JIT compiler (jdk.Compilation over 1 ms) still at work.

A request can overlap several; it is counted under the first that applies, in that order, and the
table shows how many slow requests and how much of their time above the median each cause covers.
Times in the recording are read to the millisecond (jfr print), so a cause 1 ms outside a request
still counts.
"""
import re
import statistics
import subprocess
import sys
from datetime import datetime, timezone

EVENTS = "jdk.GarbageCollection,jdk.CPUTimeSample,jdk.SocketRead,jdk.FileForce,jdk.Compilation,jdk.SafepointBegin,jdk.ExecuteVMOperation"


def parse_time(hms, day):
    t = datetime.strptime(day + " " + hms, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return t.timestamp() * 1e6


def parse_duration(text):
    value, unit = text.split()
    value = float(value)
    return value * {"ns": 1e-3, "us": 1, "ms": 1e3, "s": 1e6}[unit]


def events(jfr):
    out = subprocess.run(["jfr", "print", "--stack-depth", "64", "--events", EVENTS, jfr],
                         capture_output=True, text=True, check=True).stdout
    for block in re.split(r"^(?=jdk\.\w+ \{)", out, flags=re.M):
        m = re.match(r"(jdk\.\w+) \{", block)
        if not m:
            continue
        st = re.search(r"startTime = (\S+) \((\S+)\)", block)
        if not st:
            continue
        d = re.search(r"^\s+duration = (.+)$", block, re.M)
        thread = re.search(r'eventThread = "([^"]*)"', block) or re.search(r'sampledThread = "([^"]*)"', block)
        frames = re.findall(r"^\s+([\w.$<>]+)\(", block, re.M)
        port = re.search(r"port = (\d+)", block)
        yield {
            "type": m.group(1),
            "start": parse_time(st.group(1), st.group(2)),
            "duration": parse_duration(d.group(1)) if d else 0.0,
            "thread": thread.group(1) if thread else "",
            "frames": frames,
            "port": int(port.group(1)) if port else None,
        }


def asks_opa(event):
    """A socket read of the policy's OPA client: on its caller's thread (OpaClient in the stack), or on
    the JDK client's threads in builds before bench/results/speed.md section 48."""
    return event["thread"].startswith("HttpClient") or any("OpaClient" in f for f in event["frames"])


def five_slowest(rows, heading, where):
    """rows: (micros, start epoch micros, what was seen); prints the five largest under heading."""
    print(heading)
    print()
    for micros, start, seen in sorted(rows, reverse=True)[:5]:
        when = datetime.fromtimestamp(start / 1e6, timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        print(f"* {micros / 1000:.1f} ms {where} {when}: {seen}")


def main():
    timeline, jfr = sys.argv[1], sys.argv[2]
    requests = []
    for line in open(timeline):
        start, latency, status = line.split()
        requests.append((int(start), int(latency), int(status)))
    latencies = sorted(r[1] for r in requests)
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[int(len(latencies) * 0.99)]
    slow_us = float(sys.argv[3]) * 1000 if len(sys.argv) > 3 else p99

    causes = {name: [] for name in ("collector pause", "scheduled job (worker thread)",
                                    "audit applier (H2 inserts, H2 force)", "question to OPA",
                                    "audit fsync over 1 ms", "upstream read over 1 ms", "JIT compilation",
                                    "nothing seen")}
    evs = list(events(jfr))
    first, last = requests[0][0], requests[-1][0] + requests[-1][1]
    evs = [e for e in evs if e["start"] + e["duration"] >= first - 2000 and e["start"] <= last + 2000]

    def overlapping(start, end, kind, test=lambda e: True, pad=1000):
        return [e for e in evs if e["type"] == kind and e["start"] <= end + pad
                and e["start"] + e["duration"] >= start - pad and test(e)]

    job_counts = {}
    worst = []
    for start, latency, status in requests:
        if latency <= slow_us:
            continue
        end = start + latency
        gc = overlapping(start, end, "jdk.GarbageCollection", pad=500)
        jobs = overlapping(start, end, "jdk.CPUTimeSample", lambda e: e["thread"].startswith(("executor-thread", "audit-background")))
        applier = overlapping(start, end, "jdk.CPUTimeSample", lambda e: e["thread"] == "audit-applier") \
            + overlapping(start, end, "jdk.FileForce", lambda e: e["thread"] == "audit-applier")
        opa = overlapping(start, end, "jdk.SocketRead", asks_opa)
        fsync = overlapping(start, end, "jdk.FileForce", lambda e: e["duration"] >= 1000 and e["thread"] != "audit-applier")
        upstream = overlapping(start, end, "jdk.SocketRead",
                               lambda e: e["duration"] >= 1000 and any("Http1Client" in f for f in e["frames"])
                               and not asks_opa(e))
        jit = overlapping(start, end, "jdk.Compilation", lambda e: e["duration"] >= 1000)
        if gc:
            cause = "collector pause"
        elif jobs:
            cause = "scheduled job (worker thread)"
            for e in jobs:
                job = next((f.split(".")[-2] for f in e["frames"] if f.startswith("io.cleargate")), "other")
                job_counts[job] = job_counts.get(job, 0) + 1
        elif applier:
            cause = "audit applier (H2 inserts, H2 force)"
        elif opa:
            cause = "question to OPA"
        elif fsync:
            cause = "audit fsync over 1 ms"
        elif upstream:
            cause = "upstream read over 1 ms"
        elif jit:
            cause = "JIT compilation"
        else:
            cause = "nothing seen"
        causes[cause].append(latency)
        seen = {"collector pause": len(gc), "scheduled job": len(jobs), "applier": len(applier), "OPA question": len(opa),
                "fsync over 1 ms": len(fsync), "upstream read over 1 ms": len(upstream), "JIT": len(jit)}
        worst.append((latency, start, ", ".join(f"{k} {v}" for k, v in seen.items() if v) or "nothing"))

    slow = sum(len(v) for v in causes.values())
    print(f"{len(requests)} requests at c=1 over {(last - first) / 1e6:.1f} s: p50 {p50 / 1000:.2f} ms, "
          f"p90 {latencies[int(len(latencies) * 0.9)] / 1000:.2f} ms, p99 {p99 / 1000:.2f} ms, "
          f"max {latencies[-1] / 1000:.1f} ms; {slow} requests slower than {slow_us / 1000:.2f} ms.")
    gcs = [e for e in evs if e["type"] == "jdk.GarbageCollection"]
    if gcs:
        pauses = sorted(e["duration"] / 1000 for e in gcs)
        print(f"Collector pauses in the window: {len(gcs)}, median {statistics.median(pauses):.1f} ms, "
              f"longest {pauses[-1]:.1f} ms, {sum(pauses):.0f} ms in all.")
    print()
    print("| first cause seen | slow requests | their median ms | ms above the run's median, summed |")
    print("|---|---|---|---|")
    for name, lat in causes.items():
        if lat:
            print(f"| {name} | {len(lat)} | {statistics.median(lat) / 1000:.1f} | "
                  f"{sum(x - p50 for x in lat) / 1000:.0f} |")
    print()
    five_slowest(worst, "The five slowest, with everything seen while each was in flight:", "at")
    if job_counts:
        print()
        print("Scheduled jobs seen on the worker threads during slow requests (CPU samples): "
              + ", ".join(f"{k} {v}" for k, v in sorted(job_counts.items(), key=lambda kv: -kv[1])))


if __name__ == "__main__":
    main()
