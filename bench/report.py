#!/usr/bin/env python3
"""Turns a bench run (JSON lines from bin/lib/bench.sh) into Markdown: latency added over the direct
arm at concurrency 1 (the C client's figures; runs before it have wrk's), throughput at 64 (wrk), CPU per
request, streaming and audit storage; with BENCH_WRK_C1=1, c=1 by both clients side by side."""
import json
import os
import sys

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_ms(row):
    return row["sut_ticks"] / CLOCK_TICKS / row["requests"] * 1000 if row["requests"] else float("nan")


def jit_ms(row):
    return row.get("jit_ticks", 0) / CLOCK_TICKS / row["requests"] * 1000 if row["requests"] else float("nan")


def ratio(a, b):
    """a / b, or NaN when b is 0 (an arm whose process used no CPU tick in a window: too short or too idle to say)."""
    return a / b if b else float("nan")


SIGNER_INTERVAL_S = 10  # cleargate.audit.checkpoint-every


def windows(rows, arms):
    """Says how long each arm was measured, and whether the gateways' windows held their periodic work."""
    seconds = {}
    for r in rows:
        if r["mode"] == "json" and "seconds" in r:
            seconds.setdefault(round(r["seconds"]), []).append(r["arm"])
    if not seconds:
        return
    parts = [f"{s} s for {', '.join(dict.fromkeys(a))}" for s, a in sorted(seconds.items())]
    print(f"\nMeasured window per level: {'; '.join(parts)}.")
    print(f"The gateways do periodic work beside their requests (the audit checkpoint signer every {SIGNER_INTERVAL_S} s,")
    print("the readiness write probe every 2 s), and a request's share of it is part of its cost. A window that is a")
    print("whole multiple of the signer's interval holds that many of its runs whatever their phase (a run cut off")
    print("at one end is matched by one cut off at the other), so CPU per request, idle burn and the ratios include it.")
    short = sorted({a for s, a_list in seconds.items() for a in a_list
                    if a.startswith("gateway-") and (s < SIGNER_INTERVAL_S or s % SIGNER_INTERVAL_S)})
    if short:
        print(f"**Not a whole multiple of {SIGNER_INTERVAL_S} s** ({', '.join(short)}): these windows may hold a signer "
              "run more or less, so their CPU per request, idle burn and Portkey ratio depend on where the runs fell.")
    if any(a.endswith("-b") or "-b#" in a for a in arms):
        print("Arms ending in -b ran the same arm on another build (`BENCH_APP_B`); #2, #3 are later rounds of an arm.")


CLIENTS = {"c1client": "the C client (`bench/driver/c1client.c`)", "wrk": "wrk"}


def ms(value):
    """A latency in ms, or n/a for a figure the run's client did not print (wrk's lines before p99.9)."""
    return "n/a" if value is None else f"{value:.3f}"


def client_of(row):
    """The client that produced a row: runs before the C client have no "client" field and were wrk's."""
    return row.get("client", "wrk")


def by_client(rows, json_rows, direct1):
    """c=1 by the C client and by wrk (BENCH_WRK_C1=1) in the same arm, one window after the other."""
    wrk1 = {r["arm"]: r for r in rows if r["mode"] == "wrk_c1"}
    if not wrk1:
        return
    direct_wrk = wrk1.get("direct")
    print("\nc=1 by client (`BENCH_WRK_C1=1`): the C client's window, then wrk's, each as long, on the same server.")
    print("wrk's figures as it prints them: after its run it adds a synthetic sample at n - E, n - 2E, ... for each")
    print("request that took n ≥ 2E (E its mean time per request; coordinated-omission correction), which a closed")
    print("loop at c=1 has no cause for, so its tail holds requests that were never sent. Added = minus direct's")
    print("figure by the same client.\n")
    print("| arm | C p50 ms | C p99 ms | C p99.9 ms | wrk p50 ms | wrk p99 ms | wrk p99.9 ms | wrk p99 / C p99 "
          "| added p99 ms, C | added p99 ms, wrk | CPU ms/req, C | CPU ms/req, wrk | errors, C / wrk |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for arm, w in wrk1.items():
        c = json_rows.get((arm, 1))
        if not c:
            continue
        added_c = c["p99_ms"] - direct1["p99_ms"] if direct1 else float("nan")
        added_w = w["p99_ms"] - direct_wrk["p99_ms"] if direct_wrk else float("nan")
        print(f"| {arm} | {c['p50_ms']:.3f} | {c['p99_ms']:.3f} | {ms(c.get('p999_ms'))} | "
              f"{w['p50_ms']:.3f} | {w['p99_ms']:.3f} | {ms(w.get('p999_ms'))} | "
              f"{w['p99_ms'] / c['p99_ms'] if c['p99_ms'] else float('nan'):.2f} | {added_c:.3f} | {added_w:.3f} | "
              f"{cpu_ms(c):.3f} | {cpu_ms(w):.3f} | {c['errors']} / {w['errors']} |")


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    json_rows = {(r["arm"], r["concurrency"]): r for r in rows if r["mode"] == "json"}
    arms = list(dict.fromkeys(r["arm"] for r in rows if r["mode"] == "json"))
    direct1, direct64 = json_rows.get(("direct", 1)), json_rows.get(("direct", 64))
    portkey64 = json_rows.get(("portkey", 64))
    print(f"# Benchmark run `{path.rsplit('/', 1)[-1]}`\n")
    c1_client = CLIENTS.get(client_of(direct1 or next(iter(json_rows.values()), {})), "wrk")
    print("Load generator and mock on core 0; the system under test (and the full arm's OPA) on core 1.")
    print(f"Every c=1 figure (percentiles, CPU per request, idle burn) is from {c1_client}, every c=64 figure")
    print("from wrk. Added = arm minus direct at the same concurrency. CPU per request is the system under test's own")
    print("CPU time (utime + stime from /proc; gateway + OPA for the full arm) over the measured run divided by")
    print("the requests it served; idle burn = CPU per request at c=1 / at c=64 (target ≤ 1.5).\n")
    print("| arm | c=1 p50 ms | c=1 p99 ms | c=1 p99.9 ms | added p50 ms | added p99 ms | c=64 req/s | / direct "
          "| / Portkey | CPU ms/req c=1 | CPU ms/req c=64 | idle burn | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    failed = []
    for arm in arms:
        one, many = json_rows.get((arm, 1)), json_rows.get((arm, 64))
        if not one or not many:
            continue
        added50 = one["p50_ms"] - direct1["p50_ms"] if direct1 else float("nan")
        added99 = one["p99_ms"] - direct1["p99_ms"] if direct1 else float("nan")
        vs_direct = many["rps"] / direct64["rps"] if direct64 else float("nan")
        vs_portkey = many["rps"] / portkey64["rps"] if portkey64 else float("nan")
        c1, c64 = cpu_ms(one), cpu_ms(many)
        errors = one["errors"] + many["errors"]
        if errors:
            failed.append(arm)
        print(f"| {arm} | {one['p50_ms']:.3f} | {one['p99_ms']:.3f} | {ms(one.get('p999_ms'))} | "
              f"{added50:.3f} | {added99:.3f} | {many['rps']:.0f} | {vs_direct:.3f} | {vs_portkey:.2f} | {c1:.3f} | "
              f"{c64:.3f} | {ratio(c1, c64):.2f} | {f'**{errors}**' if errors else 0} |")
    if failed:
        print(f"\n**Failed: {', '.join(failed)}**: some answers were not 2xx (or, at c=1, not as long as the first, or the "
              "connection was lost); their figures are not valid.")
    by_client(rows, json_rows, direct1)
    windows(rows, arms)
    alloc = {(r["arm"], r["concurrency"]): r["bytes"] for r in rows if r["mode"] == "alloc"}
    jvm = [a for a in arms if any(r.get("jit_ticks") for r in rows if r["arm"] == a)]
    if jvm:
        print("\nThe gateway's CPU split: JIT = its C1/C2 compiler threads (start-up work still going on after the")
        print("warm-up), the rest = serving requests; idle = CPU while no request arrives at all. Allocated = what")
        print("the gateway's threads allocated on the heap per request served (JFR thread allocation counters).\n")
        print("| arm | JIT ms/req c=1 | JIT ms/req c=64 | rest ms/req c=1 | rest ms/req c=64 | idle burn without JIT "
              "| idle CPU % of a core (JIT %) | KB allocated/req c=1 | KB allocated/req c=64 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for arm in jvm:
            one, many = json_rows.get((arm, 1)), json_rows.get((arm, 64))
            idle = next((r for r in rows if r["mode"] == "idle" and r["arm"] == arm), None)
            j1, j64 = jit_ms(one), jit_ms(many)
            r1, r64 = cpu_ms(one) - j1, cpu_ms(many) - j64
            idle_txt = (f"{100 * idle['sut_ticks'] / CLOCK_TICKS / idle['seconds']:.1f} "
                        f"({100 * idle['jit_ticks'] / CLOCK_TICKS / idle['seconds']:.1f})") if idle else "n/a"
            kb = [f"{alloc[(arm, c)] / r['requests'] / 1024:.1f}" if (arm, c) in alloc and r["requests"] else "n/a"
                  for c, r in ((1, one), (64, many))]
            print(f"| {arm} | {j1:.3f} | {j64:.3f} | {r1:.3f} | {r64:.3f} | {ratio(r1, r64):.2f} | {idle_txt} | "
                  f"{kb[0]} | {kb[1]} |")
    warm = [r for r in rows if r["mode"] == "warmup"]
    if warm:
        print("\nWarm-up before measuring, at c=64 then at c=1, each level until the JIT compiler used under the")
        print("threshold over 5 s or for the cap (runs before section 45 of speed.md: 5%, 90 s, not recorded):\n")
        print("| arm | seconds | requests | JIT % of a core in its last 5 s | threshold % | cap s per level |")
        print("|---|---|---|---|---|---|")
        for r in warm:
            print(f"| {r['arm']} | {r['seconds']} | {r['requests']:,} | {r['jit_share_last']} | "
                  f"{r.get('jit_quiet', 'n/a')} | {r.get('max_per_level', 'n/a')} |")
    if direct64:
        print("\nThe mock's own CPU per request in each arm's c=64 run (it must stay ≥ 10× below the gateway's):\n")
        print("| arm | mock CPU µs/req c=64 | arm CPU / mock CPU |")
        print("|---|---|---|")
        for arm in arms:
            many = json_rows.get((arm, 64))
            if many and arm != "direct" and many["requests"]:
                mock = many["mock_ticks"] / CLOCK_TICKS / many["requests"] * 1e6
                print(f"| {arm} | {mock:.1f} | {cpu_ms(many) * 1000 / mock if mock else float('inf'):.1f} |")
    streams = [r for r in rows if r["mode"] == "stream"]
    if streams:
        direct = next((r for r in streams if r["arm"] == "direct"), None)
        print("\nStreaming, c=16, 64 chunks 20 ms apart (added = arm minus direct; gaps are between SSE events):\n")
        print("| arm | TTFT p50 ms | added TTFT p50 ms | TTFT p99 ms | added TTFT p99 ms | gap p50 ms | gap p99 ms "
              "| worst gap ms | added worst gap ms | errors |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in streams:
            def added(key):
                return r[key] - direct[key] if direct and key in r and key in direct else float("nan")
            print(f"| {r['arm']} | {r['ttft_p50_ms']:.2f} | {added('ttft_p50_ms'):.2f} | {r['ttft_p99_ms']:.2f} | "
                  f"{added('ttft_p99_ms'):.2f} | {r.get('gap_p50_ms', float('nan')):.2f} | "
                  f"{r.get('gap_p99_ms', float('nan')):.2f} | {r['max_gap_ms']:.1f} | {added('max_gap_ms'):.1f} | "
                  f"{r['errors']} |")
    collector(rows)
    for r in rows:
        if r["mode"] == "storage":
            grown = r["db_end"] - r["db_start"]
            print(f"\nAudit storage (H2 file, full arm): {grown:,} bytes for {r['served']:,} requests = "
                  f"{grown / r['served']:,.0f} bytes per request while running; "
                  f"{(r['db_after_stop'] - r['db_start']) / r['served']:,.0f} per request after shutdown.")


def collector(rows):
    """The collector's pauses in each gateway arm's measured windows, and its resident memory at the end."""
    gc = {(r["arm"], r["window"]): r for r in rows if r["mode"] == "gc"}
    if not gc:
        return
    memory = {r["arm"]: r for r in rows if r["mode"] == "memory"}
    print("\nThe collector in each measured window (from the allocation recording: collections begun in the window,")
    print("median and longest of each one's longest pause, all pauses added up) and the gateway's resident memory")
    print("after its stream run (peak in brackets):\n")
    print("| arm | c=1 pauses, p50 / max ms | c=64 pauses, p50 / max ms, ms/s | stream pauses, p50 / max ms "
          "| RSS MiB (peak) |")
    print("|---|---|---|---|---|")
    for arm in dict.fromkeys(a for a, _ in gc):
        def cell(window):
            r = gc.get((arm, window))
            return f"{r['count']}, {r['p50_ms']:.1f} / {r['max_ms']:.1f}" if r else "n/a"
        many = gc.get((arm, "64"))
        seconds = next((x.get("seconds", 0) for x in rows if x["mode"] == "json" and x["arm"] == arm
                        and x["concurrency"] == 64), 0)
        per_s = f", {many['total_ms'] / seconds:.1f}" if many and seconds else ""
        m = memory.get(arm)
        rss = f"{m['rss_kib'] / 1024:.0f} ({m['hwm_kib'] / 1024:.0f})" if m else "n/a"
        print(f"| {arm} | {cell('1')} | {cell('64')}{per_s} | {cell('stream')} | {rss} |")


if __name__ == "__main__":
    main(sys.argv[1])
