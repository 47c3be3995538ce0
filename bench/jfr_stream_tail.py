#!/usr/bin/env python3
"""What slow first tokens and late chunks of a stream run waited for (bin/cleargate bench tail ARM stream).

usage: jfr_stream_tail.py TIMELINE JFR [SLOW_TTFT_MS] [LATE_GAP_MS]

TIMELINE is bench/driver/LoadDriver.java's stream timeline (LOADDRIVER_TIMELINE: "s SEND_EPOCH_US
TTFT_US" per stream, "g END_EPOCH_US GAP_US" per gap between two tokens), JFR the gateway's flight
recording over the same run. The mock paces a stream's chunks 20 ms apart, so a gap over that is the
gateway's (or the machine's) delay: a gap of G ms makes a late window of the last G - 20 ms before the
token came. A first token is slow above SLOW_TTFT_MS (default: the run's p95); a gap is late above
LATE_GAP_MS (default 21: the target allows 1 ms over direct's 20).

For each slow first token (its whole window, send to token) and each late gap (its late window), it
names what the recording saw meanwhile, as bench/jfr_tail.py does for c=1 requests: a collector pause,
another safepoint over 1 ms, a scheduled job (signer, readiness probe), the journal's applier, a question
to OPA, an audit fsync over 1 ms, a JIT compilation (not an upstream read: a stream's reader always
waits for the upstream's next chunk); counted under the first that applies, and, separately,
under every one it overlapped. It also sums the CPU samples taken in the late windows by what they
ran (bench/jfr_profile.py's categories): what the core was busy with while chunks waited; and says how
often late windows, against on-time ones, overlapped another stream's first token (its request phase)
or its end (finish, final audit record, [DONE]).
"""
import bisect
import collections
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jfr_profile  # noqa: E402
import jfr_tail  # noqa: E402

PACE_US = 20_000
CAUSES = ("collector pause", "other safepoint over 1 ms", "scheduled job (worker thread)",
          "audit applier (H2 inserts, H2 force)", "question to OPA", "audit fsync over 1 ms", "JIT compilation")


def pct(values, p):
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-p * len(s) // 100) - 1))]


def simple(frame):
    """'io.cleargate.audit.AuditStage.onRequest' -> 'AuditStage.onRequest' (jfr_profile's markers)."""
    parts = frame.split(".")
    return ".".join(parts[-2:])


class Recording:
    def __init__(self, path, first, last):
        evs = [e for e in jfr_tail.events(path) if e["start"] + e["duration"] >= first - 2000 and e["start"] <= last + 2000]
        self.by_type = collections.defaultdict(list)
        for e in evs:
            self.by_type[e["type"]].append(e)

    def overlapping(self, start, end, kind, test=lambda e: True, pad=1000):
        return [e for e in self.by_type[kind] if e["start"] <= end + pad
                and e["start"] + e["duration"] >= start - pad and test(e)]

    def seen(self, start, end):
        """Every cause overlapping [start, end], by name (empty lists for those not seen)."""
        jobs = self.overlapping(start, end, "jdk.CPUTimeSample",
                                lambda e: e["thread"].startswith(("executor-thread", "audit-background")), pad=0)
        applier = self.overlapping(start, end, "jdk.CPUTimeSample", lambda e: e["thread"] == "audit-applier", pad=0) \
            + self.overlapping(start, end, "jdk.FileForce", lambda e: e["thread"] == "audit-applier", pad=0)
        return {
            "collector pause": self.overlapping(start, end, "jdk.GarbageCollection", pad=500),
            "other safepoint over 1 ms": self.overlapping(start, end, "jdk.SafepointBegin",
                                                          lambda e: e["duration"] >= 1000, pad=0)
            + self.overlapping(start, end, "jdk.ExecuteVMOperation", lambda e: e["duration"] >= 1000, pad=0),
            "scheduled job (worker thread)": jobs,
            "audit applier (H2 inserts, H2 force)": applier,
            "question to OPA": self.overlapping(start, end, "jdk.SocketRead", jfr_tail.asks_opa, pad=0),
            "audit fsync over 1 ms": self.overlapping(start, end, "jdk.FileForce",
                                                      lambda e: e["duration"] >= 1000 and e["thread"] != "audit-applier",
                                                      pad=0),
            "JIT compilation": self.overlapping(start, end, "jdk.Compilation", lambda e: e["duration"] >= 1000, pad=0),
        }

    def samples(self, start, end):
        return self.overlapping(start, end, "jdk.CPUTimeSample", pad=0)


def attribute(title, windows, rec, baseline_us):
    """windows: (start_us, end_us, size_us) per slow item; prints first causes, all causes, CPU samples."""
    first = {name: [] for name in CAUSES + ("nothing seen",)}
    every = collections.Counter()
    cpu = collections.Counter()
    counted = set()  # windows overlap (a stall makes many chunks late at once): each sample counts once
    described = []
    for start, end, size in windows:
        seen = rec.seen(start, end)
        cause = next((name for name in CAUSES if seen[name]), "nothing seen")
        first[cause].append(size)
        for name in CAUSES:
            if seen[name]:
                every[name] += 1
        for s in rec.samples(start, end):
            if id(s) not in counted:
                counted.add(id(s))
                cpu[jfr_profile.category(s["thread"], [simple(f) for f in s["frames"]])] += 1
        described.append((size, start, ", ".join(f"{k} {len(v)}" for k, v in seen.items() if v) or "nothing"))
    print(f"### {title}")
    print()
    print("| first cause seen | how many | their median ms | ms over the baseline, summed | overlapped it at all |")
    print("|---|---|---|---|---|")
    for name in CAUSES + ("nothing seen",):
        if first[name] or every[name]:
            v = first[name]
            med = f"{statistics.median(v) / 1000:.1f}" if v else "-"
            print(f"| {name} | {len(v)} | {med} | {sum(x - baseline_us for x in v) / 1000:.0f} | "
                  f"{every[name] if name in every else '-'} |")
    print()
    total = sum(cpu.values())
    if total:
        print(f"CPU samples taken inside these windows ({total}, each once), by what they ran:")
        print()
        print("| ran | samples | share |")
        print("|---|---|---|")
        for name, n in cpu.most_common(14):
            print(f"| {name} | {n} | {100 * n / total:.0f}% |")
        print()
    jfr_tail.five_slowest(described, "The five slowest, with everything seen meanwhile:", "in the window from")
    print()


def beside_other_streams(streams, gaps, ends, late_gap):
    """How often late windows, and as many on-time ones, overlap another stream's first token or end."""
    starts = sorted((s, s + t) for s, t in streams)
    finishes = sorted((e - 500, e + 3000) for e in ends)  # its last token, then finish, final record, [DONE]

    def share(windows, spans):
        lo = [a for a, _ in spans]
        hits = 0
        for a, b in windows:
            i = bisect.bisect_right(lo, b)
            hits += any(spans[j][1] >= a for j in range(max(0, i - 40), i))
        return 100 * hits / max(1, len(windows))

    late = [(e - (g - PACE_US) - 500, e) for e, g in gaps if g > late_gap]
    on_time = [(e - 1500, e) for e, g in gaps if g <= PACE_US + 500][::7]
    print("Late gaps beside the other streams (a stream's first token: send to token; its end: 0.5 ms before")
    print("its last token to 3 ms after, when the finish, the final audit record and [DONE] go through):")
    print()
    print("| windows | overlap a first token | overlap an end |")
    print("|---|---|---|")
    print(f"| late ({len(late)}) | {share(late, starts):.0f}% | {share(late, finishes):.0f}% |")
    print(f"| on time, 1.5 ms before the token (every 7th, {len(on_time)}) | {share(on_time, starts):.0f}% | "
          f"{share(on_time, finishes):.0f}% |")
    print()


def main():
    timeline, jfr = sys.argv[1], sys.argv[2]
    streams, gaps, ends = [], [], []
    for line in open(timeline):
        kind, at, us = line.split()
        if kind == "s":
            if streams:
                ends.append(last_token)
            last_token = int(at) + int(us)
            streams.append((int(at), int(us)))
        else:
            last_token = int(at)
            gaps.append((int(at), int(us)))
    if streams:
        ends.append(last_token)
    ttfts = [t for _, t in streams]
    slow_ttft = float(sys.argv[3]) * 1000 if len(sys.argv) > 3 else pct(ttfts, 95)
    late_gap = float(sys.argv[4]) * 1000 if len(sys.argv) > 4 else 21_000
    first = min(s for s, _ in streams)
    last = max(g for g, _ in gaps) if gaps else max(s + t for s, t in streams)
    rec = Recording(jfr, first, last)

    sizes = [g for _, g in gaps]
    print(f"{len(streams)} streams over {(last - first) / 1e6:.1f} s. First token p50 {pct(ttfts, 50) / 1000:.2f} ms, "
          f"p90 {pct(ttfts, 90) / 1000:.2f}, p95 {pct(ttfts, 95) / 1000:.2f}, p99 {pct(ttfts, 99) / 1000:.2f}, "
          f"max {max(ttfts) / 1000:.2f} ms. Gaps: {len(sizes)}, p50 {pct(sizes, 50) / 1000:.2f} ms, "
          f"p99 {pct(sizes, 99) / 1000:.2f}, max {max(sizes) / 1000:.2f}; over 21 ms "
          f"{sum(g > 21_000 for g in sizes)}, over 22 ms {sum(g > 22_000 for g in sizes)}, "
          f"over 25 ms {sum(g > 25_000 for g in sizes)}.")
    gcs = rec.by_type["jdk.GarbageCollection"]
    if gcs:
        pauses = sorted(e["duration"] / 1000 for e in gcs)
        print(f"Collector pauses in the run: {len(gcs)}, median {statistics.median(pauses):.1f} ms, "
              f"longest {pauses[-1]:.1f} ms, {sum(pauses):.0f} ms in all.")
    print()
    attribute(f"First tokens over {slow_ttft / 1000:.2f} ms ({sum(t > slow_ttft for t in ttfts)} streams)",
              [(s, s + t, t) for s, t in streams if t > slow_ttft], rec, pct(ttfts, 50))
    beside_other_streams(streams, gaps, ends, late_gap)
    attribute(f"Gaps over {late_gap / 1000:.1f} ms ({sum(g > late_gap for g in sizes)}), over their late windows",
              [(end - (g - PACE_US) - 500, end, g) for end, g in gaps if g > late_gap], rec, PACE_US)


if __name__ == "__main__":
    main()
