#!/bin/bash
# signer3 job (--both): the full arm at c=1 by the C client, main b5bf456 (base, built from a git archive to
# /tmp/signer3/base-src) against this branch.
#   ANATOMY="base [branch] [NAME=QUARKUS_APP_DIR ...]": for each build, after the bench's warm-up, c1client -t for 20 s (two signer runs)
#     beside a perf trace of the scheduler (bench/floor/slowsched.py: the audit background threads' stretches of
#     CPU and what the slow requests waited for), then 20 s untraced.
#   ARMS="direct full-b full full full-b": then the bench in that order (BENCH_STREAM=0), each gateway arm's
#     measured c=1 window also written as a timeline (c1client -t) and, with TRACE=1, traced by perf as above
#     (every round alike); the traces are analysed afterwards by ANALYSE=DIR (one core: no bench running).
# Output in /tmp/signer3/job$TAG. Used in speed.md section 44.
set -uo pipefail
ROOT=/work/wt/signer3; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
BASE=/tmp/signer3/base-src/target/quarkus-app
[ -f $BASE/quarkus-run.jar ] || { echo "base build missing"; exit 1; }
OUT=/tmp/signer3/job${TAG:-}; rm -rf $OUT; mkdir -p $OUT
echo "$(date +%T) start, branch $(git log --oneline | head -1)"
find_java25; bench_tools
[[ " ${ANATOMY:-} ${ARMS:-} " =~ " branch "|" full " ]] && { build_gateway || exit 1; }
source bench/floor/c1job.sh
trace() { # NAME SECONDS: the arm's thread ids (NAME.tids) and a perf trace of the scheduler (NAME.data); sets PERF_PID
  local p
  for p in $ARM_PIDS; do ls /proc/$p/task; done > $OUT/$1.tids
  taskset -c 0 perf record -q -k CLOCK_MONOTONIC -a -e sched:sched_switch -e sched:sched_waking \
    -e power:cpu_idle -o $OUT/$1.data -- sleep $(($2 + 2)) >/dev/null 2>&1 &
  PERF_PID=$!; sleep 0.7
}
export BENCH_WARMUP=30 BENCH_WARMUP_MAX=60
[ -n "${ANATOMY:-}" ] && ( anatomy_runs $ANATOMY )
if [ -n "${ARMS:-}" ]; then
  echo "$(date +%T) bench: $ARMS"
  BENCH_APP_B=$BASE BENCH_ARMS="$ARMS" BENCH_STREAM=0 cleargate_bench > $OUT/bench.txt 2>&1
  cp bench/results/latest.md $OUT/latest.md
  for f in $OUT/bench-window*.txt; do pct $f >> $OUT/timeline.txt; done
fi
if [ -n "${ANALYSE:-}" ]; then
  for f in $ANALYSE/bench-window*.data; do
    n=${f%.data}
    perf script --ns -i $f > $n.perf 2>/dev/null
    python3 bench/floor/slowsched.py $n.txt $n.perf $n.tids "$(basename $n)" > $n.md 2>&1
    rm -f $n.perf
  done
  exit 0
fi
echo "$(date +%T) analysis"
for build in ${ANATOMY:-}; do
  build=${build%%=*}; [ -f $OUT/full-$build.data ] || continue
  perf script --ns -i $OUT/full-$build.data > $OUT/full-$build.perf 2>/dev/null
  python3 bench/floor/slowsched.py $OUT/full-$build.txt $OUT/full-$build.perf $OUT/full-$build.tids "full, $build" \
    > $OUT/full-$build.md 2>&1
  rm -f $OUT/full-$build.perf $OUT/full-$build.data
done
echo "$(date +%T) done"
