#!/usr/bin/env bash
# Moderation throughput before and after a change, in one run (a benchmark, not a test):
# the moderation package as of REV against the working tree, each in its own class loader,
# measured alternately (MB/s per core, CPU time), whole text (joined, and one document at a time), streamed, normalisation and
# every default-profile rule, on dense personal data (pii) and on the mixed corpus; then what output
# moderation costs per response (CPU and allocation, OutputCostProbe) with each build.
#   bench/moderation/compare.sh REV [millis per measurement]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bin/lib/java.sh
find_java25
REV=${1:?usage: bench/moderation/compare.sh REV [millis]}
MILLIS=${2:-1500}
OUT=bench/moderation/out
BASE="$OUT/base"
mkdir -p "$OUT"

./mvnw -q -DskipTests test-compile
[ -f "$OUT/cp.txt" ] || ./mvnw -q dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" -Dmdep.includeScope=test >/dev/null
DEPS=$(cat "$OUT/cp.txt")
rm -rf "$BASE" && mkdir -p "$BASE/src" "$BASE/classes"
git archive "$REV" src/main/java/io/cleargate/moderation | tar -x -C "$BASE/src"
"$JAVA_HOME/bin/javac" -nowarn -proc:none -d "$BASE/classes" -cp "target/classes:$DEPS" \
  "$BASE"/src/src/main/java/io/cleargate/moderation/*.java
J="$JAVA_HOME/bin/java -Djava.util.logging.manager=org.jboss.logmanager.LogManager"
[ -f "$OUT/eval.jsonl" ] || $J -cp "target/classes:target/test-classes:$DEPS" io.cleargate.moderation.QualityBench "$OUT"
$J -Xmx2g -Dbase.cp="$BASE/classes:target/classes:target/test-classes:$DEPS" \
  -Dhead.cp="target/classes:target/test-classes:$DEPS" -cp "target/test-classes" \
  io.cleargate.moderation.CompareBuilds "$MILLIS" pii,mixed input docs stream normalize \
  secret-private-key secret-cloud-key secret-token secret-jwt secret-high-entropy pii-email pii-phone pii-card \
  pii-iban pii-ssn pii-ip prompt-injection system-prompt-extraction | tee "$OUT/compare.txt"
# What output moderation costs per response (the bench mock's 1.4 KB completion, whole and in 64 chunks).
echo "output moderation per response, before:" | tee -a "$OUT/compare.txt"
$J -cp "$BASE/classes:target/classes:target/test-classes:$DEPS" io.cleargate.moderation.OutputCostProbe | tee -a "$OUT/compare.txt"
echo "after:" | tee -a "$OUT/compare.txt"
$J -cp "target/classes:target/test-classes:$DEPS" io.cleargate.moderation.OutputCostProbe | tee -a "$OUT/compare.txt"
