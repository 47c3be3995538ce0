#!/bin/bash
# handoff1 (speed.md 57): the full arm's sleeps per request at c=1, by thread, and why.
# JOB=1 (--both, main's build only): the bench's warm-up, then windows of the C client at c=1:
#   A 20 s (bench/wakeups.py: CPU and voluntary sleeps per request by thread, gateway + OPA CPU),
#   B 10 s under `perf record -e sched:sched_switch -g` of the gateway (the kernel stack of every
#     switch: which syscall each thread slept in), C 10 s under a JFR recording of every park,
#     monitor wait and file force with stacks (PARKS_JFC), then D c=64 20 s (wakeups.py).
# JOB=3 (--both): main's build, one c=1 window of 10 s under PARKS_JFC (job 3: PARKS_JFC=bench/results/handoff1-monitors.jfc, what the event loop waits for).
# JOB=4 (--both): the full arm at c=64 only, ABBA (20 s windows), then the off arm (every governance stage off)
#   once per build, main then branch, c=1 and c=64.
# JOB=2 (--both): ABBA, BASE (main's quarkus-app) against BRANCH (a copy of this branch's target/quarkus-app):
#   direct at c=1 10 s, then per round the full arm after the warm-up, c=1 20 s with wakeups.py,
#   and in rounds 1 and 2 (one per build) c=64 20 s with wakeups.py for the idle burn.
set -uo pipefail
ROOT=${ROOT:-/work/wt/handoff1}; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
JOB=${JOB:-1}; OUT=${OUT:-/tmp/handoff1/job$JOB}; rm -rf $OUT; mkdir -p $OUT
BASE=${BASE:-/tmp/handoff1/base}; BRANCH=${BRANCH:-/tmp/handoff1/branch}; PARKS_JFC=${PARKS_JFC:-$ROOT/bench/results/handoff1-parks.jfc}
export BENCH_WARMUP=${BENCH_WARMUP:-30} BENCH_WARMUP_MAX=${BENCH_WARMUP_MAX:-60}
find_java25; bench_tools
hz=$(getconf CLK_TCK)
steal() { awk '/^cpu[01] /{printf "%s steal %s ", $1, $9} END {print ""}' /proc/stat; }

window() { # NAME C SECONDS RECORDING(none|perf|jfr) [header:value ...]
  local name=$1 c=$2 s=$3 rec=$4 main=${ARM_PIDS%% *} line req t0 t1 recpid=""; shift 4
  python3 bench/wakeups.py $main snapshot $OUT/$name.snap
  t0=$(cpu_ticks $ARM_PIDS)
  case $rec in
    perf) taskset -c 0 perf record -q -e sched:sched_switch -g -p $main -o $OUT/$name.perf.data -- sleep $((s + 1)) \
            >/dev/null 2>&1 & recpid=$!; sleep 0.5 ;;
    jfr) jcmd $main JFR.start name=parks settings=$PARKS_JFC duration=$((s + 1))s filename=$OUT/$name.jfr >/dev/null ;;
  esac
  if [ $c = 1 ]; then
    line=$(taskset -c 0 target/bench/c1client -d $s -X "$C1_METHOD" -b "$C1_BODY" -t $OUT/$name.txt "$URL" "${C1_HEADERS[@]}" "$@")
  else
    line=$(bench_wrk "$URL" $c $s "$@")
  fi
  t1=$(cpu_ticks $ARM_PIDS)
  req=$(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")
  { echo; echo "## $name: c=$c, ${s} s, recording: $rec"; echo; echo "load: $line"; echo
    awk -v t=$((t1 - t0)) -v r=$req -v hz=$hz 'BEGIN {printf "gateway + OPA CPU: %.1f µs/req\n", t * 1e6 / hz / r}'
    echo; python3 bench/wakeups.py $main report $OUT/$name.snap $req; } >> $OUT/report.md
  [ -n "$recpid" ] && wait $recpid
  [ $rec = jfr ] && sleep 2
  echo "$(date +%T) $name: $line"
}

arm() { # LABEL APP WINDOWS...   (window spec NAME:C:SECONDS:RECORDING)
  local label=$1 app=$2 w n c s r; shift 2
  echo "$(date +%T) $label: start ($app)"; steal
  GATEWAY_APP=$app bench_start_${ARM_KIND:-full}
  URL=$ARM_URL
  WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1 ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"}
  echo "# $label: warm-up ${WARM_SECONDS} s, JIT ${WARM_JIT_LAST}% in its last round ($app)" >> $OUT/report.md
  echo "event loop: $(jcmd $GATEWAY_PID Thread.print 2>/dev/null | grep -m1 -o 'io\.netty\.channel\.[a-z]*\.[A-Za-z]*EventLoop\.run')" >> $OUT/report.md
  for w in "$@"; do
    IFS=: read -r n c s r <<<"$w"
    window $label-$n $c $s $r ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"}
  done
  if [ "${ARM_KIND:-full}" = full ]; then bench_stop_full; else kill $GATEWAY_PID; wait $GATEWAY_PID 2>/dev/null; fi
  steal
}

(
  trap stop_tracked EXIT
  bench_start_mock
  URL=http://127.0.0.1:$MOCK_PORT/v1/chat/completions
  line=$(taskset -c 0 target/bench/c1client -d 10 -X "$C1_METHOD" -b "$C1_BODY" "$URL" "${C1_HEADERS[@]}")
  echo "direct c=1 10 s: $line" | tee -a $OUT/report.md
  if [ $JOB = 1 ]; then
    arm main $BASE A-c1:1:20:none B-c1:1:10:perf C-c1:1:10:jfr D-c64:64:20:none
  elif [ $JOB = 4 ]; then # c=64 again, ABBA, and the bare (off) arm once per build
    arm r1-main $BASE B-c64:64:20:none
    arm r2-branch $BRANCH B-c64:64:20:none
    arm r3-branch $BRANCH B-c64:64:20:none
    arm r4-main $BASE B-c64:64:20:none
    ARM_KIND=off arm off-r5-main $BASE A-c1:1:20:none B-c64:64:20:none
    ARM_KIND=off arm off-r6-branch $BRANCH A-c1:1:20:none B-c64:64:20:none
  elif [ $JOB = 3 ]; then # a contended-monitor recording (PARKS_JFC=monitors.jfc), short warm-up
    arm main $BASE C-c1:1:10:jfr
  else
    arm r1-main $BASE A-c1:1:20:none B-c64:64:20:none
    arm r2-branch $BRANCH A-c1:1:20:none B-c64:64:20:none
    arm r3-branch $BRANCH A-c1:1:20:none
    arm r4-main $BASE A-c1:1:20:none
  fi
)
echo "$(date +%T) done"
