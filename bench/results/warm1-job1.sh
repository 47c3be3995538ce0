#!/bin/bash
# warm1 job 1 (--both): where the c=1 CPU goes, per thread, on main b5bf456's build, off and full arms.
# Each gateway arm gets the bench's own warm-up (defaults: BENCH_WARMUP 20, BENCH_WARMUP_MAX 90, JIT quiet < 5%),
# then five measured windows of 20 s: A c=1, B c=64 (as the bench measures them), C c=1 traced by perf
# (sched events; c1client's timeline for bench/floor/slowsched.py), D c=1, E c=1 (the same request, later:
# what a longer warm-up would have changed). Per window: bench/wakeups.py (CPU and wake-ups per request by
# thread group), OPA's CPU (full arm), and the JIT's compile count and time from `jstat -compiler`.
# The relay (bench/mock/relay.c) first, 10 s at c=1 and at c=64: the topology's own wake-ups.
# JOB=2 runs job 2 instead: direct at c=1, then the full arm after main's warm-up (JIT quiet < 5%, cap 90 s per
# level) and a fresh one after a stricter warm-up (< 3%, cap 180 s), each with windows A, B, C only.
set -uo pipefail
ROOT=/work/wt/warm1; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
JOB=${JOB:-1}; OUT=/tmp/warm1/job$JOB; rm -rf $OUT; mkdir -p $OUT
find_java25; bench_tools
hz=$(getconf CLK_TCK)
steal() { awk '/^cpu[01] /{printf "%s steal %s ", $1, $9} END {print ""}' /proc/stat; }
jitstat() { taskset -c 0 jstat -compiler "$1" 2>/dev/null | awk 'NR==2 {print $1, $2, $4}'; } # compiled failed time(s)

window() { # NAME C SECONDS PIDS traced [header:value ...]
  local name=$1 c=$2 s=$3 pids=$4 traced=$5 main=${4%% *} line req o0 o1 j0 j1 perfpid; shift 5
  python3 bench/wakeups.py $main snapshot $OUT/$name.snap
  o0=0; o1=0; [[ "$pids" == *" "* ]] && o0=$(cpu_ticks ${pids#* })
  j0=$(jitstat $main)
  if [ $traced = 1 ]; then
    for p in $pids; do ls /proc/$p/task; done > $OUT/$name.tids
    taskset -c 0 perf record -q -k CLOCK_MONOTONIC -a -e sched:sched_switch -e sched:sched_waking \
      -e power:cpu_idle -o $OUT/$name.data -- sleep $((s + 2)) >/dev/null 2>&1 &
    perfpid=$!; sleep 0.7
  fi
  if [ $c = 1 ]; then
    line=$(taskset -c 0 target/bench/c1client -d $s -X "$C1_METHOD" -b "$C1_BODY" -t $OUT/$name.txt "$URL" "${C1_HEADERS[@]}" "$@")
  else
    line=$(bench_wrk "$URL" $c $s "$@")
  fi
  [ $traced = 1 ] && wait $perfpid
  j1=$(jitstat $main)
  [[ "$pids" == *" "* ]] && o1=$(cpu_ticks ${pids#* })
  req=$(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")
  { echo; echo "## $name: c=$c, ${s} s$([ $traced = 1 ] && echo ', traced by perf')"; echo; echo "load: $line"; echo
    echo "JIT (jstat -compiler: compiled failed seconds) before: $j0; after: $j1"
    [[ "$pids" == *" "* ]] && awk -v t=$((o1 - o0)) -v r=$req -v hz=$hz 'BEGIN {printf "OPA: %.1f µs/req\n", t * 1e6 / hz / r}'
    echo; python3 bench/wakeups.py $main report $OUT/$name.snap $req; } >> $OUT/report.md
  echo "$(date +%T) $name: $line"
}

arm() { # off|full [LABEL]
  local a=$1 l=${2:-$1} w
  echo "$(date +%T) $a: start"; steal
  GATEWAY_APP=$ROOT/target/quarkus-app "bench_start_$a"
  URL=$ARM_URL
  WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1 ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"}
  echo "# $l: warm-up ${WARM_SECONDS} s, JIT ${WARM_JIT_LAST}% in its last round" >> $OUT/report.md
  for w in A-c1:1:0 B-c64:64:0 C-c1:1:1 D-c1:1:0 E-c1:1:0; do # name:concurrency:traced
    [[ $JOB = 2 && $w == [DE]* ]] && continue
    IFS=: read -r n c t <<<"$w"
    window $l-$n $c 20 "$ARM_PIDS" $t ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"}
  done
  if [ $a = full ]; then bench_stop_full; else kill $GATEWAY_PID; wait $GATEWAY_PID 2>/dev/null; fi
  steal
}

(
  trap stop_tracked EXIT
  bench_start_mock
  if [ $JOB = 2 ]; then
    URL=http://127.0.0.1:$MOCK_PORT/v1/chat/completions
    line=$(taskset -c 0 target/bench/c1client -d 10 -X "$C1_METHOD" -b "$C1_BODY" "$URL" "${C1_HEADERS[@]}")
    echo "direct c=1 10 s: $line" | tee -a $OUT/report.md
    BENCH_JIT_QUIET=5 BENCH_WARMUP_MAX=90 arm full full-mainwarm
    BENCH_JIT_QUIET=3 BENCH_WARMUP_MAX=180 arm full full-newwarm
    exit 0
  fi
  port=$(free_port)
  taskset -c 1 target/bench/relay $port $MOCK_PORT > /tmp/warm1/relay.log 2>&1 &
  rpid=$!; track_pid $rpid
  wait_http "http://127.0.0.1:$port/v1/models" 10 || die "relay did not start"
  URL=http://127.0.0.1:$port/v1/chat/completions
  bench_wrk $URL 64 3 >/dev/null
  window relay-c1 1 10 $rpid 0
  window relay-c64 64 10 $rpid 0
  kill $rpid
  arm off
  arm full
)
echo "$(date +%T) done"
