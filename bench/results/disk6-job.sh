#!/bin/bash
# disk6 job (--both): main 814d91b (base, built from a git archive in /tmp/disk6/base-src) against this branch,
# the bench's full arm in ABBA order (ARMS, default "direct full-b full full full-b"; BENCH_STREAM=0; direct for the added latency), each gateway arm's
# measured c=1 window (the C client, 20 s) written as a timeline by bench/floor/c1job.sh; no recordings.
# Output in /tmp/disk6/job$TAG. Used in speed.md section 53.
set -uo pipefail
ROOT=/work/wt/disk6; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
BASE=/tmp/disk6/base-src/target/quarkus-app
[ -f $BASE/quarkus-run.jar ] || { echo "base build missing"; exit 1; }
OUT=/tmp/disk6/job${TAG:-}; rm -rf $OUT; mkdir -p $OUT
echo "$(date +%T) start, branch $(git log --oneline | head -1)"
find_java25; bench_tools
build_gateway || exit 1
source bench/floor/c1job.sh
export BENCH_WARMUP=${BENCH_WARMUP:-30} BENCH_WARMUP_MAX=${BENCH_WARMUP_MAX:-60}
ARMS=${ARMS:-direct full-b full full full-b}
echo "$(date +%T) bench: $ARMS"
BENCH_APP_B=$BASE BENCH_ARMS="$ARMS" BENCH_STREAM=0 cleargate_bench > $OUT/bench.txt 2>&1
cp bench/results/latest.md $OUT/latest.md
for f in $OUT/bench-window*.txt; do pct $f >> $OUT/timeline.txt; done
echo "$(date +%T) done"
