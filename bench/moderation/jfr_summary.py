"""Summarises `jfr print --events jdk.ExecutionSample` output: the hottest top frames, and for
each io.cleargate.moderation method the share of samples with it anywhere on the stack."""
import collections
import re
import sys

samples = []
stack = None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if line.startswith("jdk.ExecutionSample"):
        stack = []
        samples.append(stack)
    elif stack is not None and re.match(r"^[\w$.<>]+\(.*\)\s+line:", line):
        stack.append(line.split("(")[0])
top = collections.Counter(s[0] for s in samples if s)
inclusive = collections.Counter()
for s in samples:
    for frame in set(s):
        if frame.startswith("io.cleargate.moderation") or frame.startswith("com.google.i18n"):
            inclusive[frame] += 1
n = max(1, len(samples))
print(f"{len(samples)} samples")
print("top frames:")
for frame, count in top.most_common(25):
    print(f"  {100 * count / n:5.1f}%  {frame}")
print("inclusive (on the stack):")
for frame, count in inclusive.most_common(40):
    print(f"  {100 * count / n:5.1f}%  {frame}")
