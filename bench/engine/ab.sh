#!/usr/bin/env bash
# A/B of the embedded engine: another commit's engine (REF, default main) against this worktree's, in
# alternating rounds in one process tree, with llama-bench before and after each precision as the peer.
# Not a test. Run it with the whole machine (`run-heavy --both`): single runs of the same code differed by
# up to 35% between processes of one job (bench/results/engine-llama.md), so one run per arm cannot
# separate two versions; rounds alternate the order of the arms to spread drift over both.
#
#   bench/engine/ab.sh [ROUNDS]        ROUNDS per precision (default 3); REF=<commit>, PRECISIONS="bf16 f32",
#                                      ARMS="ref branch" (ARMS=ref: REF's engine against llama.cpp alone),
#                                      JAVA_OPTS_<ARM> extra JVM options of an arm; an arm "branch-x" or "ref-x" runs
#                                      that build with JAVA_OPTS_BRANCH_X (e.g. ARMS="ref branch branch-x")
#
# llama-bench runs in every round too (first in odd rounds, last in even ones), so each round has its own
# Java/llama.cpp ratios: the peer drifts with the machine as much as the engine does. The last lines are a
# table of every round's ratios per arm. Needs the benchmark checkpoints and GGUF files of
# bench/engine/llama.sh (`bench/engine/llama.sh convert` makes them on a fresh machine). Prints one line
# per run; keeps every JSON in $OUT.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
rounds="${1:-3}"
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
"$JAVA_HOME/bin/javac" -nowarn -proc:none --add-modules jdk.incubator.vector -d "$out/ref" -cp "$out/ref:$deps" \
  $(find "$out/ref-src" -name '*.java') 2>&1 | grep -v 'warning\|incubat\|^Note' >&2 || true
echo "ref $ref $(git rev-parse --short "$ref"), branch $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"

engine() { # arm model log (the bench's per-repetition lines on stderr, kept beside the JSON)
  local arm="$1" opts
  opts="JAVA_OPTS_$(echo "$arm" | tr 'a-z-' 'A-Z_')"
  # shellcheck disable=SC2086 # JAVA_OPTS_<ARM>: extra JVM options of one arm, word-split on purpose
  "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xss4m ${!opts:-} \
    -Dcleargate.engine.threads="$threads" -cp "$out/${arm%%-*}:$deps" io.cleargate.engine.embedded.EngineCli \
    bench --model "$2" --prompt-tokens 64 --decode-tokens 64 --repetitions 8 2>"$3" | tail -1
}
llama() { # precision tag
  "$ROOT/tools/llama.cpp-0.3.36/bin/llama-bench" -m "$model-$1.gguf" -t "$threads" -p 64 -n 64 -r 3 -o json \
    > "$out/llama-$1-$2.json" 2>/dev/null
  python3 -c "import json;r=json.load(open('$out/llama-$1-$2.json'));print('$1 round $2 llama.cpp:', ' '.join('%s %.1f +- %.1f' % ('prefill' if x['n_gen']==0 else 'decode', x['avg_ts'], x['stddev_ts']) for x in r))"
}
arms="${ARMS:-ref branch}"
for prec in ${PRECISIONS:-bf16 f32}; do
  src="$model"; [[ $prec == f32 ]] || src="$model-$prec"
  # One llama-bench run not counted, as the engine gets warm-ups: in engine9's first job the first
  # llama-bench run of each precision measured 40-60% below the runs after it (pages of the GGUF file?).
  # It runs the measured shapes five times (a few seconds, like the engine's warm-up repetitions); each
  # counted llama-bench run then makes its own warm-up run of each test first.
  "$ROOT/tools/llama.cpp-0.3.36/bin/llama-bench" -m "$model-$prec.gguf" -t "$threads" -p 64 -n 64 -r 5 -o json >/dev/null 2>&1
  for ((round = 1; round <= rounds; round++)); do
    order="$arms"; (( round % 2 )) || order="$(echo "$arms" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')"
    (( round % 2 )) && llama "$prec" "$round"
    for arm in $order; do
      engine "$arm" "$src" "$out/java-$prec-$arm-$round.log" > "$out/java-$prec-$arm-$round.json"
      python3 -c "import json;j=json.load(open('$out/java-$prec-$arm-$round.json'));print('$prec round $round $arm: prefill %.1f +- %.1f decode %.1f +- %.1f (bound %.1f, decode/bound %.2f, warm-ups %s%d, JIT ms %d)' % (j['prefill_tok_s'],j['prefill_stddev'],j['decode_tok_s'],j['decode_stddev'],j['bandwidth_bound_decode_tok_s'],j['decode_tok_s']/j['bandwidth_bound_decode_tok_s'],('%d prefills + ' % j['prefill_warmups']) if 'prefill_warmups' in j else '',j['warmup_repetitions'],j['jit_ms_during_repetitions']))"
    done
    (( round % 2 )) || llama "$prec" "$round"
  done
done
# Every round's ratios against the llama-bench run of the same round.
python3 - "$out" "$rounds" "${PRECISIONS:-bf16 f32}" "$arms" <<'PY'
import json, sys
out, rounds, precs, arms = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
print("| precision | round | arm | prefill / llama.cpp | decode / llama.cpp | decode / bound (Java, llama.cpp) |")
print("|---|---|---|---|---|---|")
for prec in precs:
    for r in range(1, rounds + 1):
        rows = json.load(open(f"{out}/llama-{prec}-{r}.json"))
        pp = next(x for x in rows if x["n_gen"] == 0)["avg_ts"]
        tg = next(x for x in rows if x["n_prompt"] == 0)["avg_ts"]
        for arm in arms:
            j = json.load(open(f"{out}/java-{prec}-{arm}-{r}.json"))
            bound = j["bandwidth_bound_decode_tok_s"]
            print(f"| {prec} | {r} | {arm} | {j['prefill_tok_s'] / pp:.2f} | {j['decode_tok_s'] / tg:.2f} | "
                  f"{j['decode_tok_s'] / bound:.2f}, {tg / bound:.2f} |")
PY
echo "JSON in $out"
