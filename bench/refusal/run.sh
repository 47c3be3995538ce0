#!/usr/bin/env bash
# Quality and cost of the model-refusal detector on the labelled corpus (see README.md here).
# Needs only a JDK 25: compiles the detector and the benchmark with javac, no Maven.
#   bench/refusal/run.sh            # tables per language: dev split, held-out test split, whole corpus
#   bench/refusal/run.sh --misses   # also lists the dev split's errors
set -euo pipefail
cd "$(dirname "$0")/../.."
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$JAVA_HOME/bin/javac" -d "$out" src/main/java/io/cleargate/refusal/detector/*.java \
    src/test/java/io/cleargate/refusal/detector/RefusalCorpus.java src/test/java/io/cleargate/refusal/detector/RefusalScores.java \
    src/test/java/io/cleargate/refusal/detector/RefusalBench.java
"$JAVA_HOME/bin/java" -cp "$out" io.cleargate.refusal.detector.RefusalBench src/test/resources/refusal/corpus "$@"
