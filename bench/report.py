#!/usr/bin/env python3
"""Turns a bench run (JSON lines) into a Markdown table of ratios against the direct arm."""
import json
import sys

CLOCK_TICKS = 100  # USER_HZ on Linux


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    direct = {(r["mode"], r["concurrency"]): r for r in rows if r["arm"] == "direct"}
    print(f"# Benchmark run `{path.rsplit('/', 1)[-1]}`\n")
    print("Added latency = arm minus direct at the same concurrency; ratios are arm / direct.\n")
    print("| arm | mode | conc. | rps | rps / direct | p50 ms | p99 ms | added p50 ms | added p99 ms | added TTFT p50 ms | worst gap ms | CPU s / 1k req | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        d = direct.get((r["mode"], r["concurrency"]))
        ratio = r["rps"] / d["rps"] if d and d["rps"] else float("nan")
        added50 = r["p50_ms"] - d["p50_ms"] if d else float("nan")
        added99 = r["p99_ms"] - d["p99_ms"] if d else float("nan")
        added_ttft = r["ttft_p50_ms"] - d["ttft_p50_ms"] if d and r["mode"] == "stream" else float("nan")
        cpu = r["cpu_ticks"] / CLOCK_TICKS / r["total_requests"] * 1000
        print(f"| {r['arm']} | {r['mode']} | {r['concurrency']} | {r['rps']:.0f} | {ratio:.2f} | {r['p50_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {added50:.2f} | {added99:.2f} | {added_ttft:.2f} | {r['max_gap_ms']:.1f} | {cpu:.2f} | {r['errors']} |")
    print("\nCPU s / 1k req is the CPU time of the arm's own process (for direct: the mock).")


if __name__ == "__main__":
    main(sys.argv[1])
