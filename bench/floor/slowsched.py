#!/usr/bin/env python3
"""What the slow requests of a c=1 run waited for, seen from the scheduler (speed.md section 37).

usage: slowsched.py TIMELINE PERF_SCRIPT SUT_TIDS [LABEL]

TIMELINE is the output of bench/driver/c1client -t ("monotonic_ns latency_ns status"), PERF_SCRIPT the text of
`perf script --ns` over a `perf record -k CLOCK_MONOTONIC -a -e sched:sched_switch -e sched:sched_waking
-e power:cpu_idle` taken meanwhile, SUT_TIDS a file of the system under test's thread ids (one a line).
A request crosses cores four times (client on core 0 -> SUT on core 1 -> mock on core 0 -> SUT -> client),
each a wake-up. For every request the script finds, among the wake-ups of the client, the mock and the
SUT's threads that began during it, the longest wait from sched_waking to the thread running, and whether
the woken thread's core was idle (halted: the guest sees nothing until the hypervisor runs the vCPU again)
or busy with another task (which) at that moment; and how long the SUT's threads and other tasks ran
during the request. The slow ones (over the run's p99) are set against all of them. For the gateway's
audit background threads (the journal's applier, the signer and write probe's pool) it also lists how much
CPU each took at a stretch, from waking to its next sleep (being preempted does not end a stretch), and how
many slow requests, and what share of all, overlapped a stretch of over 0.5 ms (speed.md section 41).

On the kernel of the machine this was written on (6.18, a Firecracker guest), core 1's idle task leaves no
events at all (no switch out of idle, no cpu_idle), while core 0's does: a task is taken to have started on
a core when it is first seen acting there, which on core 1 counts its first microseconds as waiting.
"""
import bisect
import collections
import re
import statistics
import sys

LINE = re.compile(r"^\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d+):\s+(\S+):\s*(.*)$")
# The JVM's own threads and the gateway's background work: not on a request's path.
HOUSEKEEPING = ("C1 Compiler", "C2 Compiler", "VM Thread", "GC Thread", "JFR", "Reference Handl", "Finalizer",
                "Signal Dispatch", "Service Thread", "Notification", "Common-Cleaner", "VM Periodic", "Monitor Defl",
                "Attach Listen", "audit-applier", "audit-backgroun", "vert.x-internal", "vertx-blocked")
FIELD = re.compile(r"(\w+)=(.*?)(?= \w+=|$)")


def parse(path):
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        comm, tid, cpu, sec, frac, event, rest = m.groups()
        t = int(sec) * 1_000_000_000 + int(frac.ljust(9, "0")[:9])
        yield t, int(cpu), event, rest, int(tid), comm.strip()


def trace(path):
    running = {}  # cpu -> (tid, comm, since)
    runs = collections.defaultdict(list)  # cpu -> [(start, end, tid, comm)]
    pending = {}  # tid -> (t_waking, target cpu, what ran there then)
    wakes = []  # (t_waking, t_run, tid, comm, cpu, what ran there at waking)
    blocked = {}  # tid -> when it went to sleep in state D (a disk wait: an fsync, a page in)
    disk = []  # (start, end, tid, comm)
    left = {}  # (tid, when) -> the state a task left its core in (R preempted, S/D asleep)
    comms = {}
    for t, cpu, event, rest, tid_seen, comm_seen in parse(path):
        # On this machine's kernel the idle task of core 1 leaves no events (no switch out of idle,
        # no cpu_idle): a task seen acting on a core it was not known to run on started there at
        # the latest now.
        if tid_seen and running.get(cpu, (0,))[0] != tid_seen:
            if cpu in running:
                runs[cpu].append((running[cpu][2], t, running[cpu][0], running[cpu][1]))
            running[cpu] = (tid_seen, comm_seen, t)
            if tid_seen in pending:
                tw, target, busy = pending.pop(tid_seen)
                wakes.append((tw, t, tid_seen, comm_seen, cpu, busy))
        if event == "sched:sched_switch":
            f = dict(FIELD.findall(rest.replace(" ==> ", " ")))
            prev, nxt = int(f["prev_pid"]), int(f["next_pid"])
            comms[nxt] = f["next_comm"]
            if cpu in running:
                tid, comm, since = running[cpu]
                runs[cpu].append((since, t, tid, comm))
            running[cpu] = (nxt, f["next_comm"], t)
            left[(prev, t)] = f["prev_state"]
            if f["prev_state"].startswith("D"):
                blocked[prev] = (t, f["prev_comm"])
            if prev != 0 and f["prev_state"].startswith("R"):
                pending.setdefault(prev, (t, cpu, ("preempted", nxt, f["next_comm"])))
            if nxt in pending:
                tw, target, busy = pending.pop(nxt)
                wakes.append((tw, t, nxt, f["next_comm"], cpu, busy))
        elif event == "sched:sched_waking":
            f = dict(FIELD.findall(rest))
            tid, target = int(f["pid"]), int(f["target_cpu"])
            there = running.get(target)
            busy = "idle" if there is None or there[0] == 0 else (there[0], there[1])
            pending.setdefault(tid, (t, target, busy))
            if tid in blocked:
                since, comm = blocked.pop(tid)
                disk.append((since, t, tid, comm))
    for cpu in runs:
        runs[cpu].sort()
    wakes.sort()
    disk.sort()
    return runs, wakes, disk, left


def bursts(runs, left, keep):
    """A thread's CPU between two of its sleeps (preemptions do not end one): [(start, end, cpu ns, tid)]
    for every thread keep(tid, comm) accepts, in order of start."""
    spans = sorted((s, e, tid) for cpu in runs for s, e, tid, comm in runs[cpu] if keep(tid, comm))
    open_ = {}  # tid -> [start, end, cpu]
    out = []
    for s, e, tid in spans:
        b = open_.setdefault(tid, [s, e, 0])
        b[1], b[2] = e, b[2] + (e - s)
        if not left.get((tid, e), "R").startswith("R"):
            out.append((b[0], b[1], b[2], tid))
            del open_[tid]
    out.extend((b[0], b[1], b[2], tid) for tid, b in open_.items())
    return sorted(out)


def on_cpu(runs, start, end, keep):
    """ns each kind of task ran on each cpu within [start, end], keep(tid, comm) -> label or None."""
    out = collections.Counter()
    for cpu, spans in runs.items():
        i = bisect.bisect_left(spans, (start - 50_000_000,))
        for s, e, tid, comm in spans[i:]:
            if s >= end:
                break
            d = min(e, end) - max(s, start)
            if d > 0:
                label = keep(tid, comm)
                if label:
                    out[(cpu, label)] += d
    return out


def main():
    timeline, script, tids_file = sys.argv[1:4]
    label = sys.argv[4] if len(sys.argv) > 4 else timeline
    sut = {int(x) for x in open(tids_file).read().split()}
    requests = [tuple(map(int, l.split())) for l in open(timeline)]
    runs, wakes, disk, left = trace(script)
    t_first = min(s[0] for spans in runs.values() for s in spans)
    t_last = max(s[1] for spans in runs.values() for s in spans)
    requests = [r for r in requests if r[0] >= t_first and r[0] + r[1] <= t_last]
    lat = sorted(r[1] for r in requests)
    p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99)]
    wake_times = [w[0] for w in wakes]

    def path(tid, comm):
        """The client, the mock and the SUT's threads that serve a request (not the JVM's own)."""
        if comm.startswith(("c1client", "benchmock")):
            return True
        return tid in sut and not comm.startswith(HOUSEKEEPING)

    def kind(tid, comm):
        if tid == 0:
            return "idle"
        name = re.sub(r"[/:#-]?\d+$", "", comm)
        if tid in sut:
            return "SUT " + name
        if comm.startswith(("c1client", "benchmock")):
            return name
        return "other " + name

    def disk_wait(start, end):
        """ns within [start, end] that some SUT thread spent in a disk wait (state D), longest one."""
        i = bisect.bisect_left(disk, (start - 1_000_000_000,))
        longest = 0
        for s0, e0, tid, comm in disk[i:]:
            if s0 >= end:
                break
            if tid in sut and e0 > start:
                longest = max(longest, min(e0, end) - max(s0, start))
        return longest

    rows = []
    for start, latency, status in requests:
        end = start + latency
        i = bisect.bisect_left(wake_times, start)
        longest = None
        for w in wakes[i:]:
            if w[0] >= end:
                break
            if path(w[2], w[3]) and (longest is None or w[1] - w[0] > longest[1] - longest[0]):
                longest = w
        rows.append((start, latency, longest, disk_wait(start, end)))

    def describe(w):
        if w is None:
            return "no wake-up seen", 0
        waited = w[1] - w[0]
        if w[5] == "idle":
            where = "its core idle"
        elif w[5][0] == "preempted":
            where = "preempted by " + kind(w[5][1], w[5][2])
        else:
            where = "behind " + kind(*w[5])
        return where, waited

    slow = [r for r in rows if r[1] > p99]
    print(f"## {label}\n")
    print(f"{len(requests)} requests: p50 {p50 / 1e3:.0f} µs, p90 {lat[int(len(lat) * 0.9)] / 1e3:.0f} µs, "
          f"p99 {p99 / 1e3:.0f} µs, p99.9 {lat[int(len(lat) * 0.999)] / 1e3:.0f} µs, max {lat[-1] / 1e6:.2f} ms; "
          f"{len(slow)} over the p99.\n")
    median_wait = statistics.median(describe(r[2])[1] for r in rows)
    slow_disk = sum(1 for r in slow if r[3] >= 300_000)
    print(f"Longest wake-up wait of a request (sched_waking to running, client, mock or SUT thread): median over all "
          f"requests {median_wait / 1e3:.0f} µs. Slow requests during which a SUT thread waited on the disk over 0.3 ms: "
          f"{slow_disk}.\n")
    print("| the slow request's longest wake-up wait | slow requests | median wait µs | median latency µs |")
    print("|---|---|---|---|")
    groups = collections.defaultdict(list)
    for start, latency, w, d in slow:
        where, waited = describe(w)
        key = where if waited >= 300_000 else "no wait over 0.3 ms"
        if d >= 300_000 and d >= waited:
            key, waited = "a SUT thread in a disk wait (fsync)", d
        groups[key].append((waited, latency))
    for key, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"| {key} | {len(items)} | {statistics.median(x[0] for x in items) / 1e3:.0f} | "
              f"{statistics.median(x[1] for x in items) / 1e3:.0f} |")
    print()
    # Time on each core during the requests, per request: all against slow.
    def mean_on_cpu(subset):
        total = collections.Counter()
        for start, latency, _, _ in subset:
            total.update(on_cpu(runs, start, start + latency, kind))
        return {k: v / len(subset) for k, v in total.items()}

    every, slowest = mean_on_cpu(rows[:: max(1, len(rows) // 2000)]), mean_on_cpu(slow)
    keys = sorted(set(every) | set(slowest), key=lambda k: -slowest.get(k, 0))
    print("| core: what ran during a request (µs per request) | every request | slow requests |")
    print("|---|---|---|")
    for k in keys[:14]:
        print(f"| {k[0]}: {k[1]} | {every.get(k, 0) / 1e3:.1f} | {slowest.get(k, 0) / 1e3:.1f} |")
    print()
    background_bursts(runs, left, sut, requests, slow, t_last - t_first)
    print("The ten slowest:")
    for start, latency, w, d in sorted(slow, key=lambda r: -r[1])[:10]:
        where, waited = describe(w)
        who = f"{w[3]} on core {w[4]}" if w else "-"
        busy = on_cpu(runs, start, start + latency, kind)
        top = ", ".join(f"{k[0]}: {k[1]} {v / 1e3:.0f}" for k, v in busy.most_common(5))
        print(f"* {latency / 1e3:.0f} µs: longest wait {waited / 1e3:.0f} µs ({who}, {where}); disk wait {d / 1e3:.0f} µs; "
              f"on the cores: {top}")
    print()


def background_bursts(runs, left, sut, requests, slow, span):
    """How long the gateway's background threads held the core at a stretch (CPU from waking to their
    next sleep, preemptions included), and how many requests, slow and all, overlapped such a stretch."""
    print("| background thread: CPU between sleeps | stretches a second | p50 / p90 / max ms of CPU | CPU ms a second |"
          " slow requests overlapping one (over 0.5 ms) | all requests |")
    print("|---|---|---|---|---|---|")
    for name in ("audit-applier", "audit-backgroun"):
        found = bursts(runs, left, lambda tid, comm: tid in sut and comm.startswith(name))
        if not found:
            continue
        cpu = sorted(b[2] for b in found)
        long_ = [b for b in found if b[2] >= 500_000]
        starts = [b[0] for b in long_]

        def overlaps(r):
            for b in long_[bisect.bisect_left(starts, r[0] - 100_000_000):]:
                if b[0] >= r[0] + r[1]:
                    return False
                if b[1] > r[0]:
                    return True
            return False

        slow_hit = sum(1 for r in slow if overlaps((r[0], r[1])))
        all_hit = sum(1 for r in requests if overlaps(r))
        print(f"| {name} | {len(found) / span * 1e9:.1f} | {cpu[len(cpu) // 2] / 1e6:.2f} / "
              f"{cpu[int(len(cpu) * 0.9)] / 1e6:.2f} / {cpu[-1] / 1e6:.2f} | {sum(cpu) / span * 1e3:.1f} | "
              f"{slow_hit} of {len(slow)} | {100 * all_hit / max(1, len(requests)):.1f}% |")
    print()


if __name__ == "__main__":
    main()
