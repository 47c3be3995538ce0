#!/usr/bin/env bash
# Moderation quality and throughput benchmark (a benchmark, not a test).
#   1. generates the labelled evaluation set with Datafaker (6 locales, hard negatives, bypass suite)
#      and Cleargate's predictions for it (default profile);
#   2. runs Microsoft Presidio's pattern recognizers on the same set (venv in bench/moderation/.venv);
#   3. scores both (precision, recall, F2 per entity; bypass detection rate);
#   4. JMH throughput of the default profile, one thread (MB/s per core), on dense personal data
#      (pii) and on prose, code, logs and 200 KB retrieval prompts (mixed), whole and per rule;
#   5. the time-to-first-token and inter-chunk delay the output filter adds.
# Output: bench/moderation/out/ (git-ignored); the summary is printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bin/lib/java.sh
find_java25
OUT=bench/moderation/out
mkdir -p "$OUT"

./mvnw -q -DskipTests test-compile
./mvnw -q dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" -Dmdep.includeScope=test >/dev/null
CP="target/classes:target/test-classes:$(cat "$OUT/cp.txt")"
J="$JAVA_HOME/bin/java -Djava.util.logging.manager=org.jboss.logmanager.LogManager"

$J -cp "$CP" io.cleargate.moderation.QualityBench "$OUT"

if [ ! -x bench/moderation/.venv/bin/python ]; then
  python3 -m venv bench/moderation/.venv
fi
bench/moderation/.venv/bin/python -c 'import presidio_analyzer' 2>/dev/null \
  || bench/moderation/.venv/bin/pip install -q presidio-analyzer==2.2.366
bench/moderation/.venv/bin/python bench/moderation/presidio_predict.py "$OUT/eval.jsonl" "$OUT/presidio.jsonl"
python3 bench/moderation/score.py "$OUT/eval.jsonl" "$OUT/cleargate.jsonl" "$OUT/presidio.jsonl" | tee "$OUT/quality.md"

$J -cp "$CP" io.cleargate.moderation.ThroughputBench | tee "$OUT/corpus.txt"
$J -cp "$CP" org.openjdk.jmh.Main -rf json -rff "$OUT/jmh.json" 'io.cleargate.moderation.ThroughputBench' > "$OUT/jmh.log"
python3 - "$OUT" <<'PY'
import json, re, sys
out = sys.argv[1]
sizes = {m.group(1): int(m.group(2)) for m in re.finditer(r"corpus_bytes_(\w+)=(\d+)", open(f"{out}/corpus.txt").read())}
for r in json.load(open(f"{out}/jmh.json")):
    params = r.get("params", {})
    size = sizes[params["corpus"]]
    ops = r["primaryMetric"]["score"]
    err = r["primaryMetric"]["scoreError"]
    name = r["benchmark"].split(".")[-1] + (" " + params["rule"] if "rule" in params else "")
    print(f"{params['corpus']:5} {name:45} {ops * size / 1e6:9.2f} MB/s per core (+/- {err * size / 1e6:.2f})")
PY
$J -cp "$CP" io.cleargate.moderation.StreamLatencyBench | tee "$OUT/latency.txt"
