#!/bin/bash
# disk5 job (--both): who flushes the disk in the full arm at c=1, main 0367d41 (base, built from a git archive
# to /tmp/disk5/base-src) against this branch.
#   ANATOMY="base [branch]": for each build, after the bench's warm-up, the C client at c=1 for 20 s beside one
#     perf recording of the scheduler, the flush syscalls (fsync, fdatasync), pwrite64 and the block device's
#     requests; then 20 s untraced. Read by bench/floor/flushes.py (who flushed, what the journal's flushes
#     queued behind) and bench/floor/slowsched.py (what the slow requests waited for).
#   ARMS="direct full-b full full full-b": then the bench in that order (BENCH_STREAM=0), each gateway arm's
#     measured c=1 window written as a timeline and, with TRACE=1, recorded as above (every round alike).
# Output in /tmp/disk5/job$TAG. Used in speed.md section 47.
set -uo pipefail
ROOT=/work/wt/disk5; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
BASE=${B_APP:-/tmp/disk5/base-src/target/quarkus-app}  # B_APP: another build for the "-b" arms and "base"
[ -f $BASE/quarkus-run.jar ] || { echo "base build missing"; exit 1; }
OUT=/tmp/disk5/job${TAG:-}
[ -n "${ANALYSE_ONLY:-}" ] || { rm -rf $OUT; mkdir -p $OUT; }
echo "$(date +%T) start, branch $(git log --oneline | head -1)"
find_java25; bench_tools
[[ " ${ANATOMY:-} ${ARMS:-} " =~ " branch "|" full " ]] && [ -z "${ANALYSE_ONLY:-}" ] && { build_gateway || exit 1; }
source bench/floor/c1job.sh
trace() { # NAME SECONDS: the arm's threads (NAME.tids), its open files (NAME.fds), one perf recording (NAME.data); sets PERF_PID
  local p
  for p in $ARM_PIDS; do ls /proc/$p/task; done > $OUT/$1.tids
  for p in $ARM_PIDS; do ls -l /proc/$p/fd 2>/dev/null | awk '$(NF-1) == "->" {print $(NF-2), $NF}'; done > $OUT/$1.fds
  taskset -c 0 perf record -q -k CLOCK_MONOTONIC -a -e sched:sched_switch -e sched:sched_waking -e power:cpu_idle \
    -e syscalls:sys_enter_fsync -e syscalls:sys_exit_fsync -e syscalls:sys_enter_fdatasync \
    -e syscalls:sys_exit_fdatasync -e syscalls:sys_enter_pwrite64 -e block:block_rq_issue -e block:block_rq_complete \
    -o $OUT/$1.data -- sleep $(($2 + 2)) >/dev/null 2>&1 &
  PERF_PID=$!; sleep 0.7
}
analyse() { # NAME LABEL: flushes.py and slowsched.py over NAME's recording
  local n=$OUT/$1
  [ -f $n.data ] || return
  perf script --ns -i $n.data > $n.perf 2>/dev/null
  python3 bench/floor/flushes.py $n.txt $n.perf $n.tids $n.fds "$2" > $n-flushes.md 2>&1
  grep -v "syscalls:\|block:" $n.perf > $n.sched
  python3 bench/floor/slowsched.py $n.txt $n.sched $n.tids "$2" > $n.md 2>&1
  rm -f $n.perf $n.sched $n.data
}
anatomy_more() { echo "$1 H2 $(h2_bytes $ARM_DATA) bytes, journal $(journal_bytes $ARM_DATA)" >> $OUT/timeline.txt; }
export BENCH_WARMUP=${BENCH_WARMUP:-30} BENCH_WARMUP_MAX=${BENCH_WARMUP_MAX:-60}
[ -n "${ANATOMY:-}" ] && [ -z "${ANALYSE_ONLY:-}" ] && ( anatomy_runs $ANATOMY )
if [ -n "${ARMS:-}" ] && [ -z "${ANALYSE_ONLY:-}" ]; then
  echo "$(date +%T) bench: $ARMS"
  BENCH_APP_B=$BASE BENCH_ARMS="$ARMS" BENCH_STREAM=0 cleargate_bench > $OUT/bench.txt 2>&1
  cp bench/results/latest.md $OUT/latest.md
  for f in $OUT/bench-window*.txt; do pct $f >> $OUT/timeline.txt; done
fi
# NO_ANALYSIS=1 leaves the recordings for a later single-slot run with ANALYSE_ONLY=1 (same TAG, ANATOMY).
[ -n "${NO_ANALYSIS:-}" ] && { echo "$(date +%T) done, recordings left in $OUT"; exit 0; }
echo "$(date +%T) analysis"
for build in ${ANATOMY:-}; do analyse full-${build%%=*} "full, ${build%%=*}"; done
for f in $OUT/bench-window*.data; do [ -f "$f" ] && { n=$(basename ${f%.data}); analyse $n $n; }; done
echo "$(date +%T) done"
