# Shared by the c=1 job scripts in bench/results (signer3-job.sh, disk5-job.sh): sourced after bin/lib/*.sh,
# with ROOT, BASE (another build's quarkus-app) and OUT set. The sourcing script defines trace NAME SECONDS (a
# recording beside a c=1 window; sets PERF_PID) and may define anatomy_more NAME.
app_of() { case $1 in base) echo $BASE ;; branch) echo $ROOT/target/quarkus-app ;; *=*) echo ${1#*=} ;; esac; }
steal() { awk '/^cpu[01] /{printf "%s steal %s ", $1, $9} END {print ""}' /proc/stat; }
pct() { awk '{print $2}' $1 | sort -n | awk -v f=$(basename $1) '{a[NR]=$1; if ($1>1000000) o++} END {printf "%s n=%d p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f us, over 1 ms %.2f%%\n", f, NR, a[int(NR*.5)]/1000, a[int(NR*.9)]/1000, a[int(NR*.99)]/1000, a[int(NR*.999)]/1000, a[NR]/1000, 100*o/NR}'; }
c1() { # OUTFILE URL SECONDS [header:value ...]: the C client at c=1 writing a timeline
  local out=$1 url=$2 s=$3; shift 3
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/c1client" -d "$s" -X "$C1_METHOD" -b "$C1_BODY" -t "$out" "$url" \
    "${C1_HEADERS[@]}" "$@"
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
  [ "$(type -t anatomy_more)" = function ] && anatomy_more $name # what else the job notes about the arm
}
anatomy_runs() { # BUILD...: for each build, the full arm after the bench's warm-up, handed to anatomy full-BUILD
  trap stop_tracked EXIT
  MOCK_PORT="$(free_port)"
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
  MOCK_PID=$!; track_pid "$MOCK_PID"
  wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"
  local build
  for build in "$@"; do
    GATEWAY_APP=$(app_of $build); build=${build%%=*}
    echo "$(date +%T) anatomy, $build: $GATEWAY_APP"
    [ -f $GATEWAY_APP/quarkus-run.jar ] || { echo "no build in $GATEWAY_APP"; continue; }
    bench_start_full
    WARM_PID=$GATEWAY_PID; bench_warm_up "$ARM_URL" 1 "${ARM_HEADERS[@]}"
    anatomy full-$build
    bench_stop_full
  done
}
# The bench's own measured c=1 windows (BENCH_GATEWAY_SECONDS, not a 5 s warm-up round) keep a timeline in
# $OUT/bench-windowN.txt and, with TRACE set, a recording by trace.
bench_c1() {
  local timeline=()
  if [[ "$1" == -T ]]; then timeline=(-T "$2"); shift 2; fi
  local url="$1" seconds="$2"; shift 2
  if [[ "$seconds" == "$BENCH_GATEWAY_SECONDS" && "$url" != *":$MOCK_PORT/"* ]]; then
    # bench_arm runs this in a command substitution (a subshell): the window count lives in a file.
    local n=$(( $(cat $OUT/windows 2>/dev/null || echo 0) + 1 )) name rc
    echo $n > $OUT/windows; name=bench-window$n
    PERF_PID=""; [ -n "${TRACE:-}" ] && trace $name "$seconds"
    c1 $OUT/$name.txt "$url" "$seconds" "$@"; rc=$?
    [ -n "$PERF_PID" ] && wait $PERF_PID
    return $rc
  fi
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/c1client" -d "$seconds" -X "$C1_METHOD" -b "$C1_BODY" \
    "${timeline[@]}" "$url" "${C1_HEADERS[@]}" "$@"
}
