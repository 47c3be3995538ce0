#!/usr/bin/env bash
# Verdicts before and after a change (a check for a benchmark-driven change, not a test): every
# finding of the default and strict profiles and every streamed release (VerdictDump) with the
# moderation package as of REV and with the working tree, both on one snapshot of REV's tree as
# the corpus, then compared byte for byte.
#   bench/moderation/verdicts.sh REV
set -euo pipefail
cd "$(dirname "$0")/../.."
source bin/lib/java.sh
find_java25
REV=${1:?usage: bench/moderation/verdicts.sh REV}
OUT=bench/moderation/out
BASE="$OUT/base"
CORPUS=$(mktemp -d)  # outside out/: the corpus skips paths with an out/ directory
trap 'rm -rf "$CORPUS"' EXIT
mkdir -p "$OUT"
[ -f "$OUT/cp.txt" ] || ./mvnw -q dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" -Dmdep.includeScope=test >/dev/null
DEPS=$(cat "$OUT/cp.txt")
rm -rf "$BASE" && mkdir -p "$BASE/src" "$BASE/classes"
git archive "$REV" src/main/java/io/cleargate/moderation | tar -x -C "$BASE/src"
git archive "$REV" | tar -x -C "$CORPUS"
"$JAVA_HOME/bin/javac" -nowarn -proc:none -d "$BASE/classes" -cp "target/classes:$DEPS" \
  "$BASE"/src/src/main/java/io/cleargate/moderation/*.java
J="$JAVA_HOME/bin/java -Xmx2g -Djava.util.logging.manager=org.jboss.logmanager.LogManager -Dcorpus.root=$CORPUS"
[ -f "$OUT/eval.jsonl" ] || $J -cp "target/classes:target/test-classes:$DEPS" io.cleargate.moderation.QualityBench "$OUT"
$J -cp "$BASE/classes:target/classes:target/test-classes:$DEPS" io.cleargate.moderation.VerdictDump "$OUT/verdicts-base.txt"
$J -cp "target/classes:target/test-classes:$DEPS" io.cleargate.moderation.VerdictDump "$OUT/verdicts-head.txt"
wc -l "$OUT/verdicts-base.txt" "$OUT/verdicts-head.txt"
if cmp "$OUT/verdicts-base.txt" "$OUT/verdicts-head.txt"; then
  echo "verdicts identical"
else
  diff "$OUT/verdicts-base.txt" "$OUT/verdicts-head.txt" | head -40
  exit 1
fi
