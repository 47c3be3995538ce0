#!/bin/bash
# Needs branch disk6 (69918dd): WaitingRecordHeapBench and the payload-holding applier are not on main.
# disk6 heap job (one slot; gateway, OPA, mock and client all on core 1): what records waiting for the journal
# applier keep alive. For each build ("base" = main 814d91b from a git archive in /tmp/disk6/base-src, "branch"),
# the full arm after a short warm-up, the C client at c=1 for 14 s; 5 s and 9 s in, a live-heap class histogram
# (jcmd GC.class_histogram, a full collection) of the gateway, and at 7 s a copy of the journal's files. Then
# WaitingRecordHeapBench on the branch's copy (its frames as the writer's rows against as payloads).
# Output in /tmp/disk6/heap. Used in speed.md section 53.
set -uo pipefail
ROOT=/work/wt/disk6; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
BASE=/tmp/disk6/base-src/target/quarkus-app
OUT=/tmp/disk6/heap; rm -rf $OUT; mkdir -p $OUT
find_java25; bench_tools
LOAD_CORE=1; SUT_CORE=1
export BENCH_WARMUP=${BENCH_WARMUP:-15} BENCH_WARMUP_MAX=${BENCH_WARMUP_MAX:-30}
source bench/floor/c1job.sh
trap stop_tracked EXIT
MOCK_PORT="$(free_port)"
taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
MOCK_PID=$!; track_pid "$MOCK_PID"
wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"
histo() { jcmd $GATEWAY_PID GC.class_histogram > $OUT/$1.histo 2>&1
  grep -E "Total|io\.cleargate\.audit\.(Draft|ChainRows\\\$Linked|ChainRows\\\$Pending|JournalApplier\\\$Journaled|Appended)$|java\.lang\.String$|\[B |CompletableFuture$" $OUT/$1.histo | sed "s/^/$1 /" >> $OUT/summary.txt; }
for build in base branch; do
  GATEWAY_APP=$(app_of $build)
  echo "$(date +%T) $build: $GATEWAY_APP" | tee -a $OUT/summary.txt
  bench_start_full
  WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1 "${ARM_HEADERS[@]}"
  c1 $OUT/$build.txt "$ARM_URL" 14 "${ARM_HEADERS[@]}" > $OUT/$build.json &
  C1=$!
  sleep 5; histo $build-5s
  sleep 2; mkdir -p $OUT/journal-$build; cp $ARM_DATA/db/*.journal-*.log $OUT/journal-$build/
  sleep 2; histo $build-9s
  wait $C1
  pct $OUT/$build.txt | tee -a $OUT/summary.txt
  bench_stop_full
done
name=$(basename $(ls $OUT/journal-branch/*-0.log) -0.log)
CP="$ROOT/target/test-classes:$ROOT/target/classes:$ROOT/target/quarkus-app/lib/main/*"
java -Xmx1g -Xms1g -XX:+UseG1GC -cp "$CP" io.cleargate.audit.WaitingRecordHeapBench $OUT/journal-branch "$name" 2000 \
  | tee -a $OUT/summary.txt
echo "$(date +%T) done"
