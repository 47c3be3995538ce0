#!/bin/bash
# tail2 job 2 (--both): the disk's durable small write three ways in a quiet window; the floor (ping-pong)
# before and after; direct and relay at c=1; then the off and the full arm (main d124798's build), each
# in rounds A B B A at c=1 (wrk 20 s, the bench's figure, then c1timeline 10 s), where B gives the
# gateway's background threads (JIT compilers, audit applier and background pool, Quarkus' executor and
# scheduler, JFR, the JVM's service threads) a 0.1 ms scheduler slice (bench/floor/slice.c) and A the
# default. Same JVM throughout an arm, so A and B differ only in the slice.
set -uo pipefail
ROOT=/work/wt/tail2; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
OUT=/tmp/tail2/job2${QUICK:+q}; rm -rf $OUT; mkdir -p $OUT
S=${QUICK:+1}; S=${S:-0}
secs() { if [ $S = 1 ]; then echo 2; else echo $1; fi; }
find_java25; bench_tools
trap stop_tracked EXIT
steal() { awk '/^cpu[01] /{printf "%s steal %s ", $1, $9} END {print ""}' /proc/stat; }
pct() { awk '{print $2}' $1 | sort -n | awk -v f=$(basename $1) '{a[NR]=$1; if ($1>1000000) o++} END {printf "%s n=%d p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f us, over 1 ms %.2f%%\n", f, NR, a[int(NR*.5)]/1000, a[int(NR*.9)]/1000, a[int(NR*.99)]/1000, a[int(NR*.999)]/1000, a[NR]/1000, 100*o/NR}'; }

echo "$(date +%T) disk"
mkdir -p /tmp/tail2-disk
for round in 1 2; do for m in fdatasync dsync direct; do
  echo "{\"round\":$round,$(taskset -c 0 /tmp/tail2/flushmodes /tmp/tail2-disk $m $(secs 15) 1024 | cut -c2-)" | tee -a $OUT/flush.jsonl
done; done

echo "$(date +%T) floor"
/tmp/tail2/pingpong pipe $(secs 20) 1000 | tee -a $OUT/pingpong.jsonl

MOCK_PORT="$(free_port)"
taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
MOCK_PID=$!; track_pid "$MOCK_PID"
wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"

measure() { # NAME PORT URL [header:value ...]
  local name=$1 port=$2 url=$3; shift 3
  local s0=$(steal)
  echo "{\"name\":\"$name\",\"time\":\"$(date +%T)\",\"steal0\":\"$s0\",\"wrk\":$(bench_wrk "$url" 1 $(secs 20) "$@")}" >> $OUT/wrk.jsonl
  tail -1 $OUT/wrk.jsonl
  taskset -c 0 /tmp/tail2/c1timeline $port $(secs 10) $OUT/$name.txt "$@"
  pct $OUT/$name.txt | tee -a $OUT/timeline.txt
}

echo "$(date +%T) direct"
bench_wrk "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" 1 3 >/dev/null
measure direct $MOCK_PORT "http://127.0.0.1:$MOCK_PORT/v1/chat/completions"

echo "$(date +%T) relay"
RP="$(free_port)"
taskset -c "$SUT_CORE" "$ROOT/target/bench/relay" "$RP" "$MOCK_PORT" > /dev/null 2>&1 &
RPID=$!; track_pid $RPID
wait_http "http://127.0.0.1:$RP/v1/models" 10
bench_wrk "http://127.0.0.1:$RP/v1/chat/completions" 1 3 >/dev/null
measure relay $RP "http://127.0.0.1:$RP/v1/chat/completions"
kill $RPID

BACKGROUND='^(C1 CompilerThre|C2 CompilerThre|audit-applier|audit-backgroun|executor-thread|quarkus-schedul|JFR|Notification Th|Service Thread|VM Periodic|Monitor Deflati|Common-Cleaner|vertx-blocked-t)'
set_slice() { # PID NS: the slice of the gateway's background threads
  local tids=() t
  for t in /proc/$1/task/*; do grep -qE "$BACKGROUND" $t/comm 2>/dev/null && tids+=(${t##*/}); done
  /tmp/tail2/slice $2 "${tids[@]}"
  echo "slice $2 ns on ${#tids[@]} threads: $(for t in "${tids[@]}"; do cat /proc/$1/task/$t/comm; done | sort | uniq -c | awk '{c=$1; $1=""; printf "%s x%d,", $0, c}')" >> $OUT/slices.txt
}
rounds() { # ARM PORT URL PID [header:value ...]
  local arm=$1 port=$2 url=$3 pid=$4; shift 4
  local r
  for r in A B B A; do
    if [ $r = B ]; then set_slice $pid 100000; else set_slice $pid 0; fi
    measure "$arm-$r$([ -e $OUT/$arm-$r.txt ] && echo 2)" $port "$url" "$@"
  done
}

echo "$(date +%T) off"
export BENCH_WARMUP=20 BENCH_WARMUP_MAX=45
[ $S = 1 ] && export BENCH_WARMUP=5 BENCH_WARMUP_MAX=5
bench_start_off
WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1
P=${ARM_URL#http://127.0.0.1:}; P=${P%%/*}
rounds off $P "$ARM_URL" $GATEWAY_PID
kill $GATEWAY_PID; wait $GATEWAY_PID 2>/dev/null

echo "$(date +%T) full"
export BENCH_WARMUP=30 BENCH_WARMUP_MAX=60
[ $S = 1 ] && export BENCH_WARMUP=5 BENCH_WARMUP_MAX=5
bench_start_full
WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1 "${ARM_HEADERS[@]}"
P=${ARM_URL#http://127.0.0.1:}; P=${P%%/*}
rounds full $P "$ARM_URL" $GATEWAY_PID "${ARM_HEADERS[@]}"
bench_stop_full

echo "$(date +%T) floor again"
/tmp/tail2/pingpong pipe $(secs 20) 1000 | tee -a $OUT/pingpong.jsonl
echo "$(date +%T) done"
