#!/usr/bin/env python3
"""Who flushes the disk during a c=1 run, and what the requests' own flushes queued behind (speed.md section 47).

usage: flushes.py TIMELINE PERF_SCRIPT SUT_TIDS FDS [LABEL]

TIMELINE is bench/driver/c1client -t's output ("monotonic_ns latency_ns status"); PERF_SCRIPT the text of
`perf script --ns` over a `perf record -k CLOCK_MONOTONIC -a` of syscalls:sys_{enter,exit}_{fsync,fdatasync},
syscalls:sys_enter_pwrite64, block:block_rq_issue and block:block_rq_complete (sched events may be there
too: they are skipped); SUT_TIDS the gateway's thread ids, one a line; FDS the gateway's open files as
"fd path" lines (from /proc/PID/fd), so each flush and write is named by thread and file.
Prints, per source (thread and file): flushes a second and how long they took, bytes written a second;
what the block device was asked to do (writes, flushes) and by whom; the journal's flushes (the
requests' own, on the audit writer) over 1 ms against what else was flushing or writing meanwhile; and
how many of the requests over the run's p99 overlapped a slow journal flush or another source's flush.
"""
import bisect
import collections
import re
import sys

LINE = re.compile(r"^\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d+):\s+(\S+):\s*(.*)$")
ARG = re.compile(r"(\w+): (0x[0-9a-f]+)")


def parse(path):
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if m:
            comm, tid, cpu, sec, frac, event, rest = m.groups()
            yield int(sec) * 1_000_000_000 + int(frac.ljust(9, "0")[:9]), event, rest, int(tid), comm.strip(), int(cpu)


def thread(comm):
    return re.sub(r"[/:#-]?\d+$", "", comm)


def file_kind(path):
    name = path.rsplit("/", 1)[-1]
    if ".journal-" in name:
        return "journal"
    if name.endswith(".mv.db"):
        return "H2 file"
    if name.endswith(".trace.db"):
        return "H2 trace"
    return name or "?"


def pct(values, q):
    return values[min(len(values) - 1, int(len(values) * q))] if values else 0


def main():
    timeline, script, tids_file, fds_file = sys.argv[1:5]
    label = sys.argv[5] if len(sys.argv) > 5 else timeline
    sut = {int(x) for x in open(tids_file).read().split()}
    fds = {}
    for line in open(fds_file):
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].isdigit():
            fds[int(parts[0])] = file_kind(parts[1].strip())
    open_flush = {}  # tid -> (start, fd, syscall)
    flushes = []  # (start, end, source, syscall)
    written = collections.Counter()  # source -> bytes
    writes = collections.Counter()
    issued = {}  # (sector, sectors) -> (t, rwbs, bytes, who)
    device = []  # (issue, complete, kind, bytes, who)
    wakings = collections.defaultdict(list)  # SUT tid -> [t of sched_waking]
    runs = collections.defaultdict(list)  # cpu -> [(t, comm of the task switched in)]
    t_first = t_last = None
    for t, event, rest, tid, comm, cpu in parse(script):
        t_first = t if t_first is None else t_first
        t_last = t
        if event == "sched:sched_waking":
            woken = re.search(r"pid=(\d+)", rest)
            if woken and int(woken.group(1)) in sut:
                wakings[int(woken.group(1))].append(t)
            continue
        if event == "sched:sched_switch":
            nxt = re.search(r"next_comm=(.*?) next_pid=(\d+)", rest)
            if nxt:
                runs[cpu].append((t, thread(nxt.group(1)) if int(nxt.group(2)) else "idle", int(nxt.group(2)) in sut))
            continue
        if event in ("syscalls:sys_enter_fsync", "syscalls:sys_enter_fdatasync") and tid in sut:
            fd = int(dict(ARG.findall(rest)).get("fd", "0x0"), 16)
            open_flush[tid] = (t, fd, event.rsplit("_", 1)[-1], comm)
        elif event in ("syscalls:sys_exit_fsync", "syscalls:sys_exit_fdatasync") and tid in open_flush:
            start, fd, call, comm0 = open_flush.pop(tid)
            flushes.append((start, t, f"{thread(comm0)} {call} {fds.get(fd, 'fd ' + str(fd))}", tid, cpu))
        elif event == "syscalls:sys_enter_pwrite64" and tid in sut:
            args = dict(ARG.findall(rest))
            fd = int(args.get("fd", "0x0"), 16)
            source = f"{thread(comm)} {fds.get(fd, 'fd ' + str(fd))}"
            written[source] += int(args.get("count", "0x0"), 16)
            writes[source] += 1
        elif event == "block:block_rq_issue":
            tokens = rest.split()
            rwbs, size = tokens[1], int(tokens[2]) if tokens[2].isdigit() else 0
            m = re.search(r"\)\s+(\d+) \+ (\d+)", rest)
            key = (m.group(1), m.group(2)) if m else ("flush", rwbs)
            who = rest.rsplit("[", 1)[-1].rstrip("]")
            issued[key] = (t, rwbs, size, thread(who))
        elif event == "block:block_rq_complete":
            tokens = rest.split()
            m = re.search(r"\)\s+(\d+) \+ (\d+)", rest)
            key = (m.group(1), m.group(2)) if m else ("flush", tokens[1])
            if key in issued:
                t0, rwbs, size, who = issued.pop(key)
                if "W" in rwbs:
                    kind = "write" + (" +FUA" if re.search(r"W.*F", rwbs) else "")
                else:
                    kind = "flush" if "F" in rwbs and size == 0 else "read"
                device.append((t0, t, kind, size, who))
    span = (t_last - t_first) / 1e9
    flushes.sort()
    device.sort()
    print(f"## {label}\n")
    print(f"Traced {span:.1f} s.\n")
    print("| who flushed (gateway thread, call, file) | a second | ms p50 / p90 / p99 / max | ms busy a second |")
    print("|---|---|---|---|")
    by = collections.defaultdict(list)
    for s, e, source, *_ in flushes:
        by[source].append(e - s)
    for source, d in sorted(by.items(), key=lambda kv: -len(kv[1])):
        d.sort()
        print(f"| {source} | {len(d) / span:.1f} | {pct(d, .5) / 1e6:.2f} / {pct(d, .9) / 1e6:.2f} / "
              f"{pct(d, .99) / 1e6:.2f} / {d[-1] / 1e6:.2f} | {sum(d) / span / 1e6:.1f} |")
    print()
    print("| who wrote (gateway thread, file; pwrite) | writes a second | KB a second |")
    print("|---|---|---|")
    for source, b in written.most_common():
        print(f"| {source} | {writes[source] / span:.1f} | {b / span / 1024:.0f} |")
    print()
    print("| block device: request (issued by) | a second | KB a second | device ms p50 / p99 / max |")
    print("|---|---|---|---|")
    dev = collections.defaultdict(list)
    for s, e, kind, size, who in device:
        if kind != "read":
            dev[(kind, who)].append((e - s, size))
    for (kind, who), items in sorted(dev.items(), key=lambda kv: -len(kv[1])):
        d = sorted(x[0] for x in items)
        print(f"| {kind} ({who}) | {len(d) / span:.1f} | {sum(x[1] for x in items) / span / 1024:.0f} | "
              f"{pct(d, .5) / 1e6:.2f} / {pct(d, .99) / 1e6:.2f} / {d[-1] / 1e6:.2f} |")
    print()
    # The journal's flushes (the requests' own) against the others' flushes and device writes.
    journal = [f for f in flushes if f[2].startswith("audit-writer") and f[2].endswith("journal")]
    others = [f for f in flushes if not (f[2].startswith("audit-writer") and f[2].endswith("journal"))]
    other_starts = [f[0] for f in others]
    big_writes = [d for d in device if d[2].startswith("write") and d[4] != "audit-writer"]
    bw_starts = [d[0] for d in big_writes]

    def overlapping(items, starts, s, e):
        found = []
        for x in items[max(0, bisect.bisect_left(starts, s - 2_000_000_000)):]:
            if x[0] >= e:
                break
            if x[1] > s:
                found.append(x)
        return found

    if journal:
        d_all = sorted(f[1] - f[0] for f in journal)
        print(f"The journal's flushes (audit writer, fdatasync): {len(journal) / span:.0f} a second, p50 "
              f"{pct(d_all, .5) / 1e3:.0f} µs, p99 {pct(d_all, .99) / 1e3:.0f} µs, p99.9 {pct(d_all, .999) / 1e3:.0f} µs, "
              f"max {d_all[-1] / 1e6:.1f} ms; over 1 ms: {sum(1 for x in d_all if x > 1e6)}.\n")
        print("| a journal flush, by what overlapped it | flushes | over 1 ms | p50 µs | p99 µs | max ms |")
        print("|---|---|---|---|---|---|")
        groups = collections.defaultdict(list)
        for s, e, *_ in journal:
            o = overlapping(others, other_starts, s, e)
            if o:
                key = "another flush in progress: " + " + ".join(sorted({x[2] for x in o}))
            elif overlapping(big_writes, bw_starts, s, e):
                key = "others' device writes, no other flush"
            else:
                key = "nothing else flushing or writing"
            groups[key].append(e - s)
        for key, d in sorted(groups.items(), key=lambda kv: -sum(1 for x in kv[1] if x > 1e6)):
            d.sort()
            print(f"| {key} | {len(d)} | {sum(1 for x in d if x > 1e6)} | {pct(d, .5) / 1e3:.0f} | "
                  f"{pct(d, .99) / 1e3:.0f} | {d[-1] / 1e6:.1f} |")
        print()
    if journal and wakings:
        split_slow_flushes(journal, wakings, runs)
    requests = [tuple(map(int, l.split()[:2])) for l in open(timeline) if l.strip()]
    requests = [r for r in requests if r[0] >= t_first and r[0] + r[1] <= t_last]
    if not requests:
        return
    lat = sorted(r[1] for r in requests)
    p99 = pct(lat, .99)
    slow = [r for r in requests if r[1] > p99]
    j_starts = [f[0] for f in journal]
    counts = collections.Counter()
    for s, l in slow:
        e = s + l
        j = overlapping(journal, j_starts, s, e)
        longest = max((x[1] - x[0] for x in j), default=0)
        o = overlapping(others, other_starts, s, e)
        if longest > 1_000_000:
            counts["a journal flush over 1 ms" + (" (beside another's flush)" if o else "")] += 1
        elif o:
            counts["another's flush, no journal flush over 1 ms"] += 1
        else:
            counts["no flush over 1 ms"] += 1
    print(f"{len(requests)} requests, p50 {pct(lat, .5) / 1e3:.0f} µs, p99 {p99 / 1e3:.0f} µs; {len(slow)} over the p99:\n")
    print("| a slow request overlapped | requests |")
    print("|---|---|")
    for key, n in counts.most_common():
        print(f"| {key} | {n} |")
    print()


def split_slow_flushes(journal, wakings, runs):
    """A journal flush over 1 ms, split where the kernel woke the writer (its I/O done) and what ran on
    the writer's core from that wake-up until the call returned (the writer waiting for the core)."""
    for cpu in runs:
        runs[cpu].sort()
    io, queued = [], []
    on_core = collections.Counter()
    for s, e, _, tid, cpu in journal:
        if e - s <= 1_000_000:
            continue
        w = wakings.get(tid, [])
        i = bisect.bisect_right(w, e) - 1
        wake = w[i] if i >= 0 and w[i] >= s else s
        io.append(wake - s)
        queued.append(e - wake)
        spans = runs.get(cpu, [])
        j = max(0, bisect.bisect_right(spans, (wake,)) - 1)
        for k in range(j, len(spans)):
            a = max(spans[k][0], wake)
            b = min(spans[k + 1][0] if k + 1 < len(spans) else e, e)
            if a >= e:
                break
            if b > a:
                on_core[("SUT " if spans[k][2] else "") + spans[k][1]] += b - a
    if not io:
        return
    n = len(io)
    disk_larger = sum(1 for a, b in zip(io, queued) if a >= b)
    io.sort()
    queued.sort()
    print(f"The {n} journal flushes over 1 ms, split at the writer's wake-up: until it (the disk and the kernel) "
          f"p50 {pct(io, .5) / 1e3:.0f} µs, p90 {pct(io, .9) / 1e3:.0f} µs; from it to the call's return (the writer "
          f"waiting for its core) p50 {pct(queued, .5) / 1e3:.0f} µs, p90 {pct(queued, .9) / 1e3:.0f} µs; the part "
          f"until the wake-up the larger in {disk_larger} of {n}.\n")
    print("| on the writer's core between its wake-up and the return (all slow journal flushes) | ms in all |")
    print("|---|---|")
    for who, ns in on_core.most_common(10):
        print(f"| {who} | {ns / 1e6:.1f} |")
    print()


if __name__ == "__main__":
    main()
