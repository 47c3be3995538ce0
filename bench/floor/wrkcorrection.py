#!/usr/bin/env python3
"""What wrk's coordinated-omission correction does to a c=1 run (speed.md section 40).

usage: wrkcorrection.py wrk ARGS...     run wrk under gdb; print its own line, then the percentiles of the
                                        latencies it measured, before its correction and after it (as this
                                        script applies it: the "after" must equal what wrk printed)
       wrkcorrection.py timeline FILE   a C client's timeline (bench/driver/c1client -t FILE): its percentiles
                                        as measured and as wrk would print them after the same correction

After its run, wrk (stats_correct in its source) takes E = run time / (requests per connection), its mean
time per request on a connection, and for every request that took n >= 2E adds samples at n - E, n - 2E, ...
while above E: what an open-loop client sending every E would have seen queued behind the slow request.
A closed loop at c=1 sends its next request when the last answer is in, so those samples were never
sent. Under gdb, a breakpoint on stats_correct (a symbol Debian's wrk exports) dumps the histogram (one
counter per microsecond) and E before the correction runs; gdb does not stop wrk before then.
"""
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

PERCENTILES = (50, 90, 99, 99.9)

GDB = """set confirm off
set pagination off
break stats_correct
run
printf "EXPECTED_US %ld\\n", $rsi
dump binary memory {dump} $rdi ($rdi + 32 + 8 * (*(unsigned long *)($rdi + 24) + 1))
continue
"""


def corrected(hist, expected):
    """wrk's rule applied to a histogram (index = microseconds, value = requests)."""
    out = list(hist)
    for n in range(2 * expected, len(hist)):
        m = n - expected
        while hist[n] and m > expected:
            out[m] += hist[n]
            m -= expected
    return out


def percentile(hist, p):
    """wrk's stats_percentile: the first value whose running count reaches round(p% of the count + 0.5)."""
    rank = math.floor(p / 100 * sum(hist) + 0.5 + 0.5)
    total = 0
    for value, count in enumerate(hist):
        total += count
        if total >= rank:
            return value
    return 0


def line(label, hist):
    cells = " / ".join(f"{percentile(hist, p) / 1000:.3f}" for p in PERCENTILES)
    print(f"{label}: {sum(hist)} samples, p50 / p90 / p99 / p99.9 ms {cells}")


def from_wrk(args):
    with tempfile.TemporaryDirectory(prefix="wrkcorrection-") as tmp:
        dump, script = os.path.join(tmp, "hist.bin"), os.path.join(tmp, "gdb")
        with open(script, "w") as f:
            f.write(GDB.format(dump=dump))
        out = subprocess.run(["gdb", "-q", "-batch", "-x", script, "--args", *args], capture_output=True, text=True).stdout
        expected = int(re.search(r"EXPECTED_US (\d+)", out).group(1))
        raw = open(dump, "rb").read()
    count, _limit, _low, high = struct.unpack_from("<4Q", raw)
    hist = list(struct.unpack_from(f"<{high + 1}Q", raw, 32))
    print("wrk printed:", [x for x in out.splitlines() if x.startswith("{")][-1])
    print(f"E = {expected} µs; {count} requests measured")
    line("as measured", hist)
    line("after wrk's correction", corrected(hist, expected))


def from_timeline(path):
    rows = [tuple(map(int, x.split()[:2])) for x in open(path) if x.strip()]
    micros = [lat // 1000 for _, lat in rows]
    hist = [0] * (max(micros) + 1)
    for us in micros:
        hist[us] += 1
    runtime_us = (rows[-1][0] + rows[-1][1] - rows[0][0]) // 1000
    expected = runtime_us // len(rows)
    print(f"E = {expected} µs")
    line("as measured", hist)
    line("as wrk would print it", corrected(hist, expected))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "wrk":
        from_wrk(sys.argv[1:])
    elif len(sys.argv) == 3 and sys.argv[1] == "timeline":
        from_timeline(sys.argv[2])
    else:
        sys.exit(__doc__)
