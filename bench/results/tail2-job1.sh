#!/bin/bash
# tail2 job 1 (--both): the machine's floor (ping-pong across cores), then what the slow c=1 requests of
# the relay, the off arm (with and without the bench's allocation recording) and the full arm wait for
# (c1timeline beside a perf trace of the scheduler). Gateway: main d124798's build (= this branch's start).
set -uo pipefail
ROOT=/work/wt/tail2; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
OUT=/tmp/tail2/job1${QUICK:+q}; rm -rf $OUT; mkdir -p $OUT
find_java25; bench_tools
trap stop_tracked EXIT
steal() { awk '/^cpu[01] /{printf "%s steal %s ", $1, $9} END {print ""}' /proc/stat; }
echo "$(date +%T) floor"
for spec in "pipe 20" "pipe 20 spin" "tcp 20" "tcp 10 spin" "timer 20" "timer 10 spin" "same 10" "pipe 20" "pipe 20 spin"; do
  set -- $spec
  /tmp/tail2/pingpong $1 $(( ${QUICK:-0} ? 1 : $2 )) 1000 ${3:-} >> $OUT/pingpong.jsonl
done
cat $OUT/pingpong.jsonl

anatomy() { # NAME PORT PID [header:value ...]
  local name=$1 port=$2 pids=$3 p; shift 3
  for p in $pids; do ls /proc/$p/task; done > $OUT/$name.tids
  steal > $OUT/$name.steal
  taskset -c 0 perf record -q -k CLOCK_MONOTONIC -a -e sched:sched_switch -e sched:sched_waking -e power:cpu_idle \
    -o $OUT/$name.data -- sleep 11.5 >/dev/null 2>&1 &
  local perfpid=$!
  sleep 0.7
  taskset -c 0 /tmp/tail2/c1timeline $port 10 $OUT/$name.txt "$@"
  wait $perfpid
  steal >> $OUT/$name.steal
  taskset -c 0 /tmp/tail2/c1timeline $port 10 $OUT/$name-noperf.txt "$@"
  steal >> $OUT/$name.steal
  for f in $OUT/$name.txt $OUT/$name-noperf.txt; do
    awk '{print $2}' $f | sort -n | awk -v f=$(basename $f) '{a[NR]=$1} END {printf "%s n=%d p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f us\n", f, NR, a[int(NR*.5)]/1000, a[int(NR*.9)]/1000, a[int(NR*.99)]/1000, a[int(NR*.999)]/1000, a[NR]/1000}'
  done
}

MOCK_PORT="$(free_port)"
taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
MOCK_PID=$!; track_pid "$MOCK_PID"
wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"

echo "$(date +%T) relay"
RP="$(free_port)"
taskset -c "$SUT_CORE" "$ROOT/target/bench/relay" "$RP" "$MOCK_PORT" > /dev/null 2>&1 &
RPID=$!; track_pid $RPID
wait_http "http://127.0.0.1:$RP/v1/models" 10
taskset -c 0 /tmp/tail2/c1timeline $RP 3 /dev/null
anatomy relay $RP $RPID
kill $RPID

export BENCH_WARMUP=20 BENCH_WARMUP_MAX=45
[ "${QUICK:-0}" = 1 ] && export BENCH_WARMUP=5 BENCH_WARMUP_MAX=5
echo "$(date +%T) off"
bench_start_off
WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1
P=${ARM_URL#http://127.0.0.1:}; P=${P%%/*}
anatomy off $P $GATEWAY_PID
kill $GATEWAY_PID; wait $GATEWAY_PID 2>/dev/null

echo "$(date +%T) off without the bench's allocation recording"
bench_gateway_backend() {
  echo -Dcleargate.backends.mock.kind=openai -Dcleargate.backends.mock.base-url="http://127.0.0.1:$MOCK_PORT/v1" \
    -Dcleargate.backends.mock.models=mock -Dquarkus.log.level=WARN -Dcleargate.routing.tenant-share=1
}
bench_start_off
WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1
P=${ARM_URL#http://127.0.0.1:}; P=${P%%/*}
anatomy offnojfr $P $GATEWAY_PID
kill $GATEWAY_PID; wait $GATEWAY_PID 2>/dev/null
unset -f bench_gateway_backend; source "$ROOT/bin/lib/bench.sh"

echo "$(date +%T) full"
export BENCH_WARMUP=30 BENCH_WARMUP_MAX=60
[ "${QUICK:-0}" = 1 ] && export BENCH_WARMUP=5 BENCH_WARMUP_MAX=5
bench_start_full
WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1 "${ARM_HEADERS[@]}"
P=${ARM_URL#http://127.0.0.1:}; P=${P%%/*}
anatomy full $P "$ARM_PIDS" "${ARM_HEADERS[@]}"
bench_stop_full
echo "$(date +%T) done"
