#!/usr/bin/env bash
# A/B of the embedded engine: another commit's engine (REF, default main) against this worktree's, and
# llama-bench as the peer, in rounds whose order is balanced. Not a test. Run it with the whole machine
# (`run-heavy --both`): single runs of the same code differed by up to 35% between processes of one job
# (bench/results/engine-llama.md), so one run per arm cannot separate two versions.
#
#   bench/engine/ab.sh [ROUNDS]        ROUNDS per precision (default 6); REF=<commit>, PRECISIONS="bf16 f32",
#                                      ARMS="ref branch" (ARMS=ref: REF's engine against llama.cpp alone),
#                                      JAVA_OPTS_<ARM> extra JVM options of an arm; an arm "branch-x" or "ref-x" runs
#                                      that build with JAVA_OPTS_BRANCH_X (e.g. ARMS="ref branch branch-x"; "ref ref-2"
#                                      is two processes of REF's build), PROCESSES=job|round
#
# PROCESSES=job (default): one JVM per arm and precision, warmed once, then measured once per round
# (`cleargate engine bench --rounds-on-stdin`); PROCESSES=round: a fresh JVM per arm and round (each warms
# itself, ~25 s). Both arms run this worktree's EngineCli (the bench's protocol); REF gives the rest of the
# engine package. llama-bench runs in every round too (its own warm-up run first each time), so each round
# has its own Java/llama.cpp ratios: the peer drifts with the machine as much as the engine does. A round's
# order rotates the arms and llama.cpp by one place per round and is reversed in the second half of
# 2 x (arms + 1) rounds, so each stands in each place equally often. Each run's line gives its place,
# start time and the host's steal time during it. The last lines are tables: every round's ratios per
# arm, their spread, and each engine's figures by place in the round. Needs the benchmark checkpoints and
# GGUF files of bench/engine/llama.sh (`bench/engine/llama.sh convert` makes them on a fresh machine).
# Keeps every JSON and log in $OUT.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
rounds="${1:-6}"
ref="${REF:-main}"
model="${MODEL_DIR:-$ROOT/target/bench-engine/model}"
out="${OUT:-$(mktemp -d)}"
threads="${THREADS:-2}"
# shellcheck source=../../bin/lib/java.sh
source "$ROOT/bin/lib/java.sh"
find_java25
./mvnw -B -q compile >&2
cp_file="$out/classpath.txt"
./mvnw -B -q dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime >&2
deps="$(cat "$cp_file")"
# This worktree's classes, and REF's: the same classes with REF's engine package compiled over them.
rm -rf "$out/branch" "$out/ref" "$out/ref-src"
cp -r target/classes "$out/branch"
cp -r target/classes "$out/ref" && rm -rf "$out/ref/io/cleargate/engine/embedded"
mkdir -p "$out/ref-src"
git archive "$ref" src/main/java/io/cleargate/engine/embedded | tar -x -C "$out/ref-src"
cp src/main/java/io/cleargate/engine/embedded/EngineCli.java "$out/ref-src/src/main/java/io/cleargate/engine/embedded/"
"$JAVA_HOME/bin/javac" -nowarn -proc:none --add-modules jdk.incubator.vector -d "$out/ref" -cp "$out/ref:$deps" \
  $(find "$out/ref-src" -name '*.java') 2>&1 | grep -v 'warning\|incubat\|^Note' >&2 || true
echo "ref $ref $(git rev-parse --short "$ref"), branch $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"

java_cmd() { # arm: the JVM and its options for that arm's build
  local arm="$1" opts
  opts="JAVA_OPTS_$(echo "$arm" | tr 'a-z-' 'A-Z_')"
  # shellcheck disable=SC2086 # JAVA_OPTS_<ARM>: extra JVM options of one arm, word-split on purpose
  echo "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xss4m ${!opts:-} \
    -Dcleargate.engine.threads="$threads" -cp "$out/${arm%%-*}:$deps" io.cleargate.engine.embedded.EngineCli
}
steal() { awk '/^cpu /{print $9}' /proc/stat; } # the host's steal time, in USER_HZ ticks (10 ms)
t_start=$(date +%s)
engine() { # arm model log (the bench's per-repetition lines on stderr, kept beside the JSON)
  # shellcheck disable=SC2046
  $(java_cmd "$1") bench --model "$2" --prompt-tokens 64 --decode-tokens 64 --repetitions 8 2>"$3" | tail -1
}
# PROCESSES=job: one warmed JVM per arm for the whole precision (EngineCli --rounds-on-stdin), asked for
# one measurement per round through a FIFO; its stderr (every repetition) goes to java-PREC-ARM.log.
declare -A in_fd out_fd pid
start_arm() { # arm model prec
  local arm="$1" fd line
  rm -f "$out/$arm.in" "$out/$arm.out" && mkfifo "$out/$arm.in" "$out/$arm.out"
  # The JVM must not inherit the other arms' FIFO ends: an inherited write end of an arm's stdin keeps
  # that arm from seeing EOF when the shell closes it (job 1 of engine11 hung there).
  # shellcheck disable=SC2046
  (for fd in "${in_fd[@]}" "${out_fd[@]}"; do eval "exec $fd>&-"; done
   exec $(java_cmd "$arm") bench --model "$2" --prompt-tokens 64 --decode-tokens 64 --repetitions 8 --rounds-on-stdin \
    <"$out/$arm.in" >"$out/$arm.out" 2>"$out/java-$3-$arm.log") &
  pid[$arm]=$!
  exec {fd}>"$out/$arm.in"; in_fd[$arm]=$fd
  exec {fd}<"$out/$arm.out"; out_fd[$arm]=$fd
  while read -r line <&"${out_fd[$arm]}" && [[ $line != ready ]]; do :; done
  echo "$3 $arm warmed at $(( $(date +%s) - t_start )) s: $(grep -c 'warm-up' "$out/java-$3-$arm.log") repetitions, $(grep -o '[0-9]* prefills alone' "$out/java-$3-$arm.log")"
}
ask_arm() { local line; echo go >&"${in_fd[$1]}"; read -r line <&"${out_fd[$1]}"; echo "$line"; }
stop_arm() { # closing its stdin ends the process
  local fd="${in_fd[$1]}"
  exec {fd}>&-
  wait "${pid[$1]}" || true
  fd="${out_fd[$1]}"
  exec {fd}<&-
}
llama() { # precision tag
  "$ROOT/tools/llama.cpp-0.3.36/bin/llama-bench" -m "$model-$1.gguf" -t "$threads" -p 64 -n 64 -r 3 -o json \
    > "$out/llama-$1-$2.json" 2>/dev/null
}
java_line() { # prec round arm
  python3 -c "import json;j=json.load(open('$out/java-$1-$3-$2.json'));print('prefill %.1f +- %.1f decode %.1f +- %.1f (bound %.1f at %.1f GB/s, decode/bound %.2f, warm-ups %s%d, JIT ms %d)' % (j['prefill_tok_s'],j['prefill_stddev'],j['decode_tok_s'],j['decode_stddev'],j['bandwidth_bound_decode_tok_s'],j['read_bandwidth_gb_s'],j['decode_tok_s']/j['bandwidth_bound_decode_tok_s'],('%d prefills + ' % j['prefill_warmups']) if 'prefill_warmups' in j else '',j['warmup_repetitions'],j['jit_ms_during_repetitions']))"
}
llama_line() { # prec round
  python3 -c "import json;r=json.load(open('$out/llama-$1-$2.json'));print(' '.join('%s %.1f +- %.1f' % ('prefill' if x['n_gen']==0 else 'decode', x['avg_ts'], x['stddev_ts']) for x in r))"
}
# The order of a round: the arms and llama.cpp rotated by one place per round, and reversed in the second
# set of as many rounds, so over 2 x (arms + 1) rounds each stands in every place of the round equally
# often (with two arms, six rounds are every order once). engine10's rounds kept one arm in the middle and
# the later Java run of a round measured lower in 18 of 20 pairs.
order_of() { # round (from 1)
  python3 -c "import sys;r=int(sys.argv[1])-1;a=sys.argv[2:];k=len(a);o=a[r%k:]+a[:r%k];print(' '.join(o[::-1] if (r//k)%2 else o))" "$1" $arms llama
}
arms="${ARMS:-ref branch}"
processes="${PROCESSES:-job}"
for prec in ${PRECISIONS:-bf16 f32}; do
  src="$model"; [[ $prec == f32 ]] || src="$model-$prec"
  # One llama-bench run not counted, as the engine gets warm-ups: in engine9's first job the first
  # llama-bench run of each precision measured 40-60% below the runs after it (pages of the GGUF file?).
  # It runs the measured shapes five times (a few seconds, like the engine's warm-up repetitions); each
  # counted llama-bench run then makes its own warm-up run of each test first.
  "$ROOT/tools/llama.cpp-0.3.36/bin/llama-bench" -m "$model-$prec.gguf" -t "$threads" -p 64 -n 64 -r 5 -o json >/dev/null 2>&1
  if [[ $processes == job ]]; then
    for arm in $arms; do start_arm "$arm" "$src" "$prec"; done
  fi
  for ((round = 1; round <= rounds; round++)); do
    place=0
    for item in $(order_of "$round"); do
      place=$((place + 1)); s0=$(steal); t0=$(( $(date +%s) - t_start ))
      if [[ $item == llama ]]; then
        llama "$prec" "$round"
        line="llama.cpp: $(llama_line "$prec" "$round")"
      else
        if [[ $processes == job ]]; then
          ask_arm "$item" > "$out/java-$prec-$item-$round.json"
        else
          engine "$item" "$src" "$out/java-$prec-$item-$round.log" > "$out/java-$prec-$item-$round.json"
        fi
        line="$item: $(java_line "$prec" "$round" "$item")"
      fi
      echo "$item $place" >> "$out/places-$prec-$round.txt"
      echo "$prec round $round place $place at $t0 s, steal $(( ($(steal) - s0) * 10 )) ms: $line"
    done
  done
  if [[ $processes == job ]]; then
    for arm in $arms; do stop_arm "$arm"; done
  fi
done
# Every round's ratios against the llama-bench run of the same round, then per arm their spread, and
# each engine's figures by place in the round (relative to its own median), which shows an order effect.
python3 - "$out" "$rounds" "${PRECISIONS:-bf16 f32}" "$arms" <<'PY'
import json, statistics, sys
out, rounds, precs, arms = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
print("| precision | round | arm | prefill / llama.cpp | decode / llama.cpp | decode / bound (Java, llama.cpp) |")
print("|---|---|---|---|---|---|")
ratios, places = {}, {}
for prec in precs:
    for r in range(1, rounds + 1):
        place = dict(line.split() for line in open(f"{out}/places-{prec}-{r}.txt"))
        rows = json.load(open(f"{out}/llama-{prec}-{r}.json"))
        pp = next(x for x in rows if x["n_gen"] == 0)["avg_ts"]
        tg = next(x for x in rows if x["n_prompt"] == 0)["avg_ts"]
        places.setdefault((prec, "llama"), []).append((int(place["llama"]), pp, tg))
        for arm in arms:
            j = json.load(open(f"{out}/java-{prec}-{arm}-{r}.json"))
            bound = j["bandwidth_bound_decode_tok_s"]
            ratios.setdefault((prec, arm), []).append((j["prefill_tok_s"] / pp, j["decode_tok_s"] / tg))
            places.setdefault((prec, arm), []).append((int(place[arm]), j["prefill_tok_s"], j["decode_tok_s"]))
            print(f"| {prec} | {r} | {arm} | {j['prefill_tok_s'] / pp:.2f} | {j['decode_tok_s'] / tg:.2f} | "
                  f"{j['decode_tok_s'] / bound:.2f}, {tg / bound:.2f} |")
print()
print("| precision | arm | prefill / llama.cpp: min, median, max (rounds >= 1) | decode / llama.cpp: min, median, max (rounds >= 1) |")
print("|---|---|---|---|")
def spread(v):
    return f"{min(v):.2f}, {statistics.median(v):.2f}, {max(v):.2f} ({sum(x >= 1 for x in v)} of {len(v)})"
for (prec, arm), v in ratios.items():
    print(f"| {prec} | {arm} | {spread([p for p, _ in v])} | {spread([d for _, d in v])} |")
print()
print("| precision | engine | prefill by place in the round / its median (1st, 2nd, 3rd, ...) | decode by place / its median |")
print("|---|---|---|---|")
for (prec, who), v in places.items():
    cols = []
    for k in (1, 2):
        med = statistics.median(x[k] for x in v)
        by = {}
        for x in v:
            by.setdefault(x[0], []).append(x[k] / med)
        cols.append(", ".join(f"{statistics.mean(by[p]):.2f}" for p in sorted(by)))
    print(f"| {prec} | {who} | {cols[0]} | {cols[1]} |")
PY
echo "JSON in $out"
