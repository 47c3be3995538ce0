#!/usr/bin/env bash
# Where whole-text moderation spends its time (a benchmark aid, not a test): moderates a corpus
# with the default profile in a loop under JFR and prints the hottest methods (top frame) and the
# hottest moderation frames anywhere on the stack, as shares of the samples (with
# -XX:+DebugNonSafepoints: without it, a hot loop's samples land on whatever call it inlined).
#   bench/moderation/profile.sh [pii|mixed] [seconds] [joined|docs]   (docs: one document at a time)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bin/lib/java.sh
find_java25
CORPUS=${1:-mixed}
SECONDS_=${2:-30}
MODE=${3:-joined}
OUT=bench/moderation/out
mkdir -p "$OUT"
[ -f "$OUT/cp.txt" ] || ./mvnw -q dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" -Dmdep.includeScope=test >/dev/null
DEPS=$(cat "$OUT/cp.txt")
J="$JAVA_HOME/bin/java -Djava.util.logging.manager=org.jboss.logmanager.LogManager"
[ -f "$OUT/eval.jsonl" ] || $J -cp "target/classes:target/test-classes:$DEPS" io.cleargate.moderation.QualityBench "$OUT"
REC="$OUT/profile-$CORPUS-$MODE.jfr"
$J -Xmx2g -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints -XX:StartFlightRecording=filename="$REC",settings=profile -cp "target/classes:target/test-classes:$DEPS" \
  io.cleargate.moderation.ProfileLoop "$CORPUS" "$SECONDS_" "$MODE"
"$JAVA_HOME/bin/jfr" print --events jdk.ExecutionSample --stack-depth 64 "$REC" > "$OUT/profile-$CORPUS-$MODE.txt"
python3 bench/moderation/jfr_summary.py "$OUT/profile-$CORPUS-$MODE.txt"
