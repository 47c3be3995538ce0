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
BASE=/tmp/disk5/base-src/target/quarkus-app
[ -f $BASE/quarkus-run.jar ] || { echo "base build missing"; exit 1; }
OUT=/tmp/disk5/job${TAG:-}
[ -n "${ANALYSE_ONLY:-}" ] || { rm -rf $OUT; mkdir -p $OUT; }
echo "$(date +%T) start, branch $(git log --oneline | head -1)"
find_java25; bench_tools
[[ " ${ANATOMY:-} ${ARMS:-} " =~ " branch "|" full " ]] && [ -z "${ANALYSE_ONLY:-}" ] && { build_gateway || exit 1; }
app_of() { case $1 in base) echo $BASE ;; branch) echo $ROOT/target/quarkus-app ;; *=*) echo ${1#*=} ;; esac; }
steal() { awk '/^cpu[01] /{printf "%s steal %s ", $1, $9} END {print ""}' /proc/stat; }
pct() { awk '{print $2}' $1 | sort -n | awk -v f=$(basename $1) '{a[NR]=$1; if ($1>1000000) o++} END {printf "%s n=%d p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f us, over 1 ms %.2f%%\n", f, NR, a[int(NR*.5)]/1000, a[int(NR*.9)]/1000, a[int(NR*.99)]/1000, a[int(NR*.999)]/1000, a[NR]/1000, 100*o/NR}'; }
c1() { # OUTFILE URL SECONDS [header:value ...]
  local out=$1 url=$2 s=$3; shift 3
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/c1client" -d "$s" -X "$C1_METHOD" -b "$C1_BODY" -t "$out" "$url" \
    "${C1_HEADERS[@]}" "$@"
}
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
anatomy() { # NAME: the started full arm, warmed up: traced (NAME.txt), then untraced (NAME-noperf.txt)
  local name=$1
  steal >> $OUT/$name.steal
  trace $name 20
  c1 $OUT/$name.txt "$ARM_URL" 20 "${ARM_HEADERS[@]}" > $OUT/$name.json
  wait $PERF_PID
  steal >> $OUT/$name.steal
  c1 $OUT/$name-noperf.txt "$ARM_URL" 20 "${ARM_HEADERS[@]}" > $OUT/$name-noperf.json
  pct $OUT/$name.txt | tee -a $OUT/timeline.txt
  pct $OUT/$name-noperf.txt | tee -a $OUT/timeline.txt
  steal >> $OUT/$name.steal
  echo "$name H2 $(h2_bytes $ARM_DATA) bytes, journal $(journal_bytes $ARM_DATA)" >> $OUT/timeline.txt
}
export BENCH_WARMUP=${BENCH_WARMUP:-30} BENCH_WARMUP_MAX=${BENCH_WARMUP_MAX:-60}
if [ -n "${ANATOMY:-}" ] && [ -z "${ANALYSE_ONLY:-}" ]; then (
  trap stop_tracked EXIT
  MOCK_PORT="$(free_port)"
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
  MOCK_PID=$!; track_pid "$MOCK_PID"
  wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"
  for build in $ANATOMY; do
    GATEWAY_APP=$(app_of $build); build=${build%%=*}
    echo "$(date +%T) anatomy, $build: $GATEWAY_APP"
    [ -f $GATEWAY_APP/quarkus-run.jar ] || { echo "no build in $GATEWAY_APP"; continue; }
    bench_start_full
    WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1 "${ARM_HEADERS[@]}"
    anatomy full-$build
    bench_stop_full
  done
) fi
if [ -n "${ARMS:-}" ] && [ -z "${ANALYSE_ONLY:-}" ]; then
  echo "$(date +%T) bench: $ARMS"
  # The bench's own measured c=1 windows (BENCH_GATEWAY_SECONDS, not a 5 s warm-up round) keep a timeline.
  bench_c1() {
    local timeline=()
    if [[ "$1" == -T ]]; then timeline=(-T "$2"); shift 2; fi
    local url="$1" seconds="$2"; shift 2
    if [[ "$seconds" == "$BENCH_GATEWAY_SECONDS" && "$url" != *"$MOCK_PORT"* ]]; then
      # bench_arm runs this in a command substitution (a subshell): the window count lives in a file.
      local n=$(( $(cat $OUT/windows 2>/dev/null || echo 0) + 1 )) name rc
      echo $n > $OUT/windows; name=bench-window$n
      PERF_PID=""; [ -n "${TRACE:-}" ] && trace $name "$seconds"
      c1 $OUT/$name.txt "$url" "$seconds" "$@"; rc=$?
      [ -n "$PERF_PID" ] && wait $PERF_PID
      return $rc
    else
      taskset -c "$LOAD_CORE" "$ROOT/target/bench/c1client" -d "$seconds" -X "$C1_METHOD" -b "$C1_BODY" \
        "${timeline[@]}" "$url" "${C1_HEADERS[@]}" "$@"
    fi
  }
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
