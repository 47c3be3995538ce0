#!/usr/bin/env python3
"""Where a gateway's CPU and allocation go, per request and per pipeline stage, from a flight
recording made by `bin/cleargate bench profile ARM C`:

    python3 bench/jfr_profile.py FILE.jfr REQUESTS [OUT_PREFIX]

REQUESTS is the number of requests served while the recording ran (the profile prints it). Prints
a Markdown summary: CPU-time samples and sampled allocation by stage (the deepest frame that names
a stage or a part of the request path decides), allocation per request (the sum of the allocation
samples' weights, which JFR scales so that they add up to the bytes allocated, and the threads'
allocation counters), the hottest frames by self and total time. With OUT_PREFIX it also writes
OUT_PREFIX.collapsed (one "frame;frame;... count" line per stack, the input of flame-graph tools)
and OUT_PREFIX.svg, a flame graph drawn by this script (no tool needed to read it: any browser).
"""
import collections
import html
import json
import subprocess
import sys

# Marker frames, matched against "Class.method" (simple class name). For each sample the deepest
# (closest to the leaf) frame that matches a marker names the sample's category, so a sample in
# OPA's client inside the policy stage counts as "policy: OPA call", not as "policy".
MARKERS = [
    ("OpenAiRoutes.", "api: read body, parse request"),
    ("ChatCompletionParser.", "api: read body, parse request"),
    ("Pipeline.", "pipeline glue"),
    ("AuthenticateStage.", "authenticate (API key)"),
    ("ResolveTenantStage.", "resolve-tenant"),
    ("PolicyStage.", "policy stage"),
    ("PolicyInput.", "policy: build input"),
    ("PolicyDecisions.", "policy: decision cache"),
    ("OpaClient.", "policy: OPA call (HTTP client)"),
    ("DecisionParser.", "policy: parse decision"),
    ("TenantLimits.", "policy: rate limits"),
    ("Spending.", "policy: month-to-date spending"),
    ("InputModerationStage.", "input moderation"),
    ("RoutingStage.", "routing"),
    ("AuditStage.", "audit stage (request thread)"),
    ("OutputModerationStage.", "output moderation"),
    ("ModelRefusalStage.", "model-refusal detection"),
    ("RegionDispatcher.", "engine call (HTTP client)"),
    ("OpenAiUpstream.", "engine call (HTTP client)"),
    ("OneShotStream.", "engine: read + parse answer"),
    ("SseEngineStream.", "engine: read + parse answer"),
    ("ChatSinks", "response: build + write"),
    ("HttpResponder.", "response: build + write"),
    ("RequestMetrics.", "metrics"),
    ("RefusalMetrics.", "metrics"),
    ("ModerationMetrics.", "metrics"),
    ("PolicyMetrics.", "metrics"),
    ("RoutingMetrics.", "metrics"),
    ("SdkSpanBuilder.", "tracing"),
    ("SdkSpan.", "tracing"),
]

# Threads that are not request threads get their own category whatever they run.
THREADS = [
    ("audit-writer", "audit writer thread"),
    ("audit-background", "audit checkpoint signer (background thread)"),
    ("vert.x-eventloop", "Vert.x event loop"),
    ("SelectorManager", "JDK HTTP client selector"),
    ("HttpClient-", "JDK HTTP client workers"),
    ("agroal", "JDBC pool"),
    ("JFR", "JFR itself"),
]


def frames(event):
    stack = event["values"].get("stackTrace") or {}
    out = []
    for f in stack.get("frames", []):
        m = f["method"]
        out.append(f"{m['type']['name'].replace('/', '.').rsplit('.', 1)[-1]}.{m['name']}")
    return out  # leaf first


def thread_name(event):
    v = event["values"]
    t = v.get("eventThread") or v.get("sampledThread") or {}
    return t.get("javaName") or t.get("osName") or "?"


def category(thread, fs):
    for needle, name in THREADS:
        if needle in thread:
            return name
    for f in fs:  # leaf first: the deepest marker wins
        for needle, name in MARKERS:
            if f.startswith(needle):
                return name
    if "ForkJoinPool" in thread or not thread or thread == "?" or thread.startswith(("chat-", "embeddings-")):
        return "request thread, outside the stages (scheduling, continuations)"
    return "other: " + thread.rstrip("0123456789-")


def read(path, event_type, depth=96):
    raw = subprocess.run(["jfr", "print", "--json", "--stack-depth", str(depth), "--events", event_type, path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(raw)["recording"]["events"]


def heap_allocation(path):
    """Bytes allocated while recording, from the heap before each GC minus the heap after the one before."""
    total, after = 0, None
    for e in read(path, "jdk.GCHeapSummary"):
        v = e["values"]
        if v["when"] == "Before GC" and after is not None:
            total += v["heapUsed"] - after
        elif v["when"] == "After GC":
            after = v["heapUsed"]
    return total


def thread_allocation(path):
    """Bytes the threads allocated between the recording's first and last counter reading."""
    first, last = {}, {}
    for e in read(path, "jdk.ThreadAllocationStatistics"):
        v = e["values"]
        t = (v.get("thread") or {}).get("javaName") or str((v.get("thread") or {}).get("javaThreadId"))
        first.setdefault(t, v["allocated"])
        last[t] = v["allocated"]
    return {t: last[t] - first[t] for t in last}


def flame_svg(collapsed, total, title, width=1600, row=16, min_fraction=0.004):
    """A flame graph (root at the bottom) as SVG, frames narrower than min_fraction of the total dropped."""
    tree = {}
    for stack, n in collapsed.items():
        node = tree
        for f in stack.split(";"):
            child = node.setdefault(f, [0, {}])
            child[0] += n
            node = child[1]
    rects = []
    depth_max = [0]

    def walk(node, x, depth):
        for name, (n, kids) in sorted(node.items()):
            w = n / total
            if w >= min_fraction:
                rects.append((x, depth, w, name, n))
                depth_max[0] = max(depth_max[0], depth)
                walk(kids, x, depth + 1)
            x += w

    walk(tree, 0.0, 0)
    height = (depth_max[0] + 3) * row
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" '
           f'font-size="11"><title>{html.escape(title)}</title>',
           f'<text x="4" y="12">{html.escape(title)} ({total} samples; hover a frame for its share)</text>']
    for x, depth, w, name, n in rects:
        px, py, pw = x * width, height - (depth + 1) * row, max(w * width - 0.5, 0.5)
        hue = 10 + (hash(name) % 40)
        label = html.escape(name)
        out.append(f'<g><title>{label}: {n} samples, {100 * n / total:.2f}%</title>'
                   f'<rect x="{px:.1f}" y="{py}" width="{pw:.1f}" height="{row - 1}" fill="hsl({hue},80%,60%)"/>')
        chars = int(pw / 7)
        if chars >= 4:
            text = name if len(name) <= chars else name[:chars - 2] + ".."
            out.append(f'<text x="{px + 2:.1f}" y="{py + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def main(path, requests, prefix=None, java_ms=None, cpu_event="jdk.CPUTimeSample"):
    """java_ms: CPU ms per request of the threads JFR samples (all but the JIT, GC and VM threads)."""
    requests = int(requests)
    java_ms = float(java_ms) if java_ms else None
    cpu = read(path, cpu_event)
    by_cat = collections.Counter()
    self_frames = collections.Counter()
    total_frames = collections.Counter()
    collapsed = collections.Counter()
    for e in cpu:
        t = thread_name(e)
        fs = frames(e)
        by_cat[category(t, fs)] += 1
        if fs:
            self_frames[fs[0]] += 1
        for f in set(fs):
            total_frames[f] += 1
        root = "thread " + category(t, []) if any(n in t for n, _ in THREADS) else "request threads"
        collapsed[";".join([root] + list(reversed(fs)))] += 1
    n = sum(by_cat.values())
    print(f"## {path}\n\n{n} {cpu_event} samples for {requests} requests.\n")
    print("CPU samples by stage (deepest marker frame; each share is of the sampled Java CPU, JIT and GC not included):\n")
    if java_ms:
        print(f"The sampled threads used {java_ms * 1000:.0f} µs of CPU per request; each stage's µs per request is its share of that.\n")
        print("| where | samples | share | CPU µs per request |\n|---|---|---|---|")
        for c, k in by_cat.most_common():
            print(f"| {c} | {k} | {100 * k / n:.1f}% | {java_ms * 1000 * k / n:.1f} |")
    else:
        print("| where | samples | share |\n|---|---|---|")
        for c, k in by_cat.most_common():
            print(f"| {c} | {k} | {100 * k / n:.1f}% |")

    # Totals come from the threads' allocation counters (a virtual thread's allocations count on
    # its carrier). The allocation samples only say where: a virtual thread's sample weights are
    # measured against its carrier's counter, so each request thread's first sample carries
    # everything its carrier allocated before; within the request threads the samples are counted
    # instead (a sample is taken per TLAB filled, so their number follows the bytes).
    threads = thread_allocation(path)
    ttotal = sum(threads.values())
    carriers = sum(b for t, b in threads.items() if t.startswith("ForkJoinPool-1-worker"))
    by_thread = collections.Counter()
    for t, b in threads.items():
        if t.startswith("ForkJoinPool-1-worker"):
            by_thread["request threads (virtual, on their carriers)"] += b
        else:
            by_thread[category(t, [])] += b
    print(f"\nAllocation (thread allocation counters, first to last reading): {ttotal / 1e6:.1f} MB, "
          f"**{ttotal / requests / 1024:.1f} KB per request**; by thread:\n")
    print("| thread | KB per request | share |\n|---|---|---|")
    for c, b in by_thread.most_common(8):
        if b > 0:
            print(f"| {c} | {b / requests / 1024:.1f} | {100 * b / ttotal:.1f}% |")
    counts = collections.Counter()
    for e in read(path, "jdk.ObjectAllocationSample"):
        t = e["values"].get("eventThread") or {}
        if t.get("virtual"):
            counts[category(thread_name(e), frames(e))] += 1
    n_alloc = sum(counts.values())
    if n_alloc:
        print(f"\nThe request threads' {carriers / requests / 1024:.1f} KB per request by stage "
              f"({n_alloc} allocation samples on virtual threads, counted):\n")
        print("| where | KB per request | share |\n|---|---|---|")
        for c, k in counts.most_common(20):
            print(f"| {c} | {carriers * k / n_alloc / requests / 1024:.1f} | {100 * k / n_alloc:.1f}% |")

    print("\nHottest frames, self (top 25):\n\n| frame | self | total |\n|---|---|---|")
    for f, k in self_frames.most_common(25):
        print(f"| `{f}` | {100 * k / n:.1f}% | {100 * total_frames[f] / n:.1f}% |")
    print("\nHottest frames, total (top 40, frames of the gateway's own code and its libraries):\n")
    print("| frame | total |\n|---|---|")
    shown = 0
    for f, k in total_frames.most_common():
        if f.split(".")[0] in ("Thread", "VirtualThread", "Continuation", "ForkJoinWorkerThread", "ForkJoinPool",
                               "FastThreadLocalRunnable", "ThreadExecutorMap$2", "SingleThreadEventExecutor$4"):
            continue
        print(f"| `{f}` | {100 * k / n:.1f}% |")
        shown += 1
        if shown == 40:
            break
    if prefix:
        with open(prefix + ".collapsed", "w") as out:
            for stack, k in collapsed.most_common():
                out.write(f"{stack} {k}\n")
        with open(prefix + ".svg", "w") as out:
            out.write(flame_svg(collapsed, n, f"{path.rsplit('/', 1)[-1]}: {cpu_event}"))
        print(f"\nWrote {prefix}.collapsed and {prefix}.svg")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)  # FILE.jfr REQUESTS [OUT_PREFIX [JAVA_CPU_MS_PER_REQUEST]]
    main(*sys.argv[1:])
