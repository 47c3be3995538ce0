#!/bin/bash
# applier2 job (--both): the full arm of main fd92c36 (base, /tmp/applier2-base) and of this branch at c=1,
# each after the bench's warm-up: c1timeline 15 s beside a perf trace of the scheduler (slowsched.py: what
# the slow requests waited for, and how long the audit applier held the core between two sleeps), then 15 s
# untraced; then the bench's A/B in ABBA order (BENCH_ARMS="direct full-b full full full-b").
# Run once, 06:44-07:03 on 2026-12-03, with the branch at 0c817f6 (1 ms slices): applier2-job1-20261203.md.
set -uo pipefail
ROOT=/work/wt/applier2; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
grep -q base-built /tmp/applier2-build-base.log || { echo "base build missing"; exit 1; }
echo "$(date +%T) build $(git log --oneline | head -1)"
./mvnw -B -o -q -DskipTests package || exit 1
OUT=/tmp/applier2/job${TAG:-}; rm -rf $OUT; mkdir -p $OUT
cc -O2 -o /tmp/applier2/c1timeline bench/floor/c1timeline.c || exit 1
find_java25; bench_tools
steal() { awk '/^cpu[01] /{printf "%s steal %s ", $1, $9} END {print ""}' /proc/stat; }
pct() { awk '{print $2}' $1 | sort -n | awk -v f=$(basename $1) '{a[NR]=$1; if ($1>1000000) o++} END {printf "%s n=%d p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f us, over 1 ms %.2f%%\n", f, NR, a[int(NR*.5)]/1000, a[int(NR*.9)]/1000, a[int(NR*.99)]/1000, a[int(NR*.999)]/1000, a[NR]/1000, 100*o/NR}'; }

anatomy() { # NAME PORT PIDS [header:value ...]: c1timeline traced by perf (NAME.txt), then untraced (NAME-noperf.txt)
  local name=$1 port=$2 pids=$3 p run perfpid; shift 3
  for p in $pids; do ls /proc/$p/task; done > $OUT/$name.tids
  for run in "" -noperf; do
    steal >> $OUT/$name.steal
    if [ -z "$run" ]; then
      taskset -c 0 perf record -q -k CLOCK_MONOTONIC -a -e sched:sched_switch -e sched:sched_waking \
        -e power:cpu_idle -o $OUT/$name.data -- sleep 16.5 >/dev/null 2>&1 &
      perfpid=$!; sleep 0.7
    fi
    taskset -c 0 /tmp/applier2/c1timeline $port 15 $OUT/$name$run.txt "$@"
    [ -z "$run" ] && wait $perfpid
    pct $OUT/$name$run.txt | tee -a $OUT/timeline.txt
  done
  steal >> $OUT/$name.steal
}

(
  trap stop_tracked EXIT
  MOCK_PORT="$(free_port)"
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
  MOCK_PID=$!; track_pid "$MOCK_PID"
  wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"
  export BENCH_WARMUP=30 BENCH_WARMUP_MAX=60
  for build in base branch; do
    echo "$(date +%T) full, $build"
    if [ $build = base ]; then GATEWAY_APP=/tmp/applier2-base; else GATEWAY_APP=$ROOT/target/quarkus-app; fi
    bench_start_full
    WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1 "${ARM_HEADERS[@]}"
    P=${ARM_URL#http://127.0.0.1:}; P=${P%%/*}
    anatomy full-$build $P "$ARM_PIDS" "${ARM_HEADERS[@]}"
    bench_stop_full
  done
)
echo "$(date +%T) bench"
BENCH_APP_B=/tmp/applier2-base BENCH_ARMS="direct full-b full full full-b" BENCH_STREAM=0 BENCH_WARMUP=30 \
  BENCH_WARMUP_MAX=60 bin/cleargate bench > $OUT/bench.txt 2>&1
cp bench/results/latest.md $OUT/latest.md
echo "$(date +%T) analysis"
for build in base branch; do
  perf script --ns -i $OUT/full-$build.data > $OUT/full-$build.perf 2>/dev/null
  python3 bench/floor/slowsched.py $OUT/full-$build.txt $OUT/full-$build.perf $OUT/full-$build.tids "full, $build" \
    > $OUT/full-$build.md 2>&1
  rm -f $OUT/full-$build.perf
done
echo "$(date +%T) done"
