#!/usr/bin/env python3
"""Where the audit writer's CPU goes: CPU-time samples of the "audit-writer" thread of a flight
recording (bin/cleargate bench profile full C), each counted under the first frame, from the top of
its stack, that belongs to one of the parts below.
usage: python3 bench/audit/jfr_audit.py FILE.jfr"""
import collections
import json
import subprocess
import sys

# Parts that own everything beneath them, wherever they are on the stack.
OWNERS = [
    ("H2 housekeeping (compaction steps)", ["io/cleargate/audit/StoreHousekeeping.step", "io/cleargate/audit/StoreHousekeeping.compact",
                                            "MVStore.compact"]),
    ("usage ledger", ["io/cleargate/usage/"]),
]
# (part, substrings of "package/Class.method"), checked in order on each frame from the leaf down.
PARTS = [
    ("fsync (FileChannel.force)", ["FileChannelImpl.force", "FileDispatcherImpl.force", "UnixFileDispatcherImpl.force"]),
    ("file write (pwrite)", ["pwrite", "FileChannelImpl.write"]),
    ("deflate / inflate", ["java/util/zip/"]),
    ("hashing (SHA-256)", ["MessageDigest", "sun/security/provider/SHA"]),
    ("H2 store: pages and chunks", ["org/h2/mvstore/"]),
    ("H2 SQL engine", ["org/h2/"]),
    ("Hibernate ORM", ["org/hibernate/"]),
    ("transaction manager (Narayana)", ["com/arjuna/", "io/quarkus/narayana"]),
    ("connection pool (Agroal)", ["io/agroal/"]),
    ("JSON (Jackson)", ["com/fasterxml/jackson/"]),
    ("audit writer itself", ["io/cleargate/audit/"]),
]


def main(path):
    raw = subprocess.run(["jfr", "print", "--json", "--stack-depth", "96", "--events", "jdk.CPUTimeSample", path],
                         capture_output=True, text=True, check=True).stdout
    events = json.loads(raw)["recording"]["events"]
    parts = collections.Counter()
    total = 0
    for e in events:
        v = e["values"]
        thread = (v.get("eventThread") or v.get("sampledThread") or {}).get("javaName") or "?"
        if thread != "audit-writer":
            continue
        total += 1
        frames = [f"{f['method']['type']['name']}.{f['method']['name']}"
                  for f in (v.get("stackTrace") or {}).get("frames", [])]
        part = next((name for name, keys in OWNERS for frame in frames if any(k in frame for k in keys)), None)
        if part is None:
            part = next((name for frame in frames for name, keys in PARTS if any(k in frame for k in keys)),
                        "other (JDK, GC barriers)")
        parts[part] += 1
    all_samples = len(events)
    print(f"audit-writer: {total} of {all_samples} CPU-time samples ({100 * total / max(all_samples, 1):.1f}%)")
    for part, n in parts.most_common():
        print(f"  {n:5d}  {100 * n / max(total, 1):5.1f}%  {part}")


if __name__ == "__main__":
    main(sys.argv[1])
