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
app_of() { case $1 in base) echo $BASE ;; branch) echo $ROOT/target/quarkus-app ;; *=*) echo ${1#*=} ;; esac; }
steal() { awk '/^cpu[01] /{printf "%s steal %s ", $1, $9} END {print ""}' /proc/stat; }
pct() { awk '{print $2}' $1 | sort -n | awk -v f=$(basename $1) '{a[NR]=$1; if ($1>1000000) o++} END {printf "%s n=%d p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f us, over 1 ms %.2f%%\n", f, NR, a[int(NR*.5)]/1000, a[int(NR*.9)]/1000, a[int(NR*.99)]/1000, a[int(NR*.999)]/1000, a[NR]/1000, 100*o/NR}'; }
c1() { # OUTFILE URL SECONDS [header:value ...]
  local out=$1 url=$2 s=$3; shift 3
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/c1client" -d "$s" -X "$C1_METHOD" -b "$C1_BODY" -t "$out" "$url" \
    "${C1_HEADERS[@]}" "$@"
}
trace() { # NAME SECONDS: the arm's thread ids (NAME.tids) and a perf trace of the scheduler (NAME.data); sets PERF_PID
  local p
  for p in $ARM_PIDS; do ls /proc/$p/task; done > $OUT/$1.tids
  taskset -c 0 perf record -q -k CLOCK_MONOTONIC -a -e sched:sched_switch -e sched:sched_waking \
    -e power:cpu_idle -o $OUT/$1.data -- sleep $(($2 + 2)) >/dev/null 2>&1 &
  PERF_PID=$!; sleep 0.7
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
}
export BENCH_WARMUP=30 BENCH_WARMUP_MAX=60
if [ -n "${ANATOMY:-}" ]; then (
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
if [ -n "${ARMS:-}" ]; then
  echo "$(date +%T) bench: $ARMS"
  # The bench's own measured c=1 windows (BENCH_GATEWAY_SECONDS, not a 5 s warm-up round) keep a timeline.
  bench_c1() {
    local url="$1" seconds="$2"; shift 2
    if [[ "$seconds" == "$BENCH_GATEWAY_SECONDS" ]]; then
      # bench_arm runs this in a command substitution (a subshell): the window count lives in a file.
      local n=$(( $(cat $OUT/windows 2>/dev/null || echo 0) + 1 )) name rc
      echo $n > $OUT/windows; name=bench-window$n
      PERF_PID=""; [ -n "${TRACE:-}" ] && trace $name "$seconds"
      c1 $OUT/$name.txt "$url" "$seconds" "$@"; rc=$?
      [ -n "$PERF_PID" ] && wait $PERF_PID
      return $rc
    else
      taskset -c "$LOAD_CORE" "$ROOT/target/bench/c1client" -d "$seconds" -X "$C1_METHOD" -b "$C1_BODY" "$url" \
        "${C1_HEADERS[@]}" "$@"
    fi
  }
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
