#!/usr/bin/env bash
# llama.cpp peer for the embedded engine (not a test, not part of `bin/cleargate test`): builds
# llama-cpp-python from PyPI once into bench/.peers/ (it compiles llama.cpp: many minutes on two cores),
# converts the benchmark checkpoint to GGUF with llama.cpp's convert_hf_to_gguf.py at f32, bf16 and q8_0,
# and times prefill/decode at the same THREADS, PROMPT_TOKENS and DECODE_TOKENS as the Java engine.
# Usage: bench/engine/llama.sh [MODEL_DIR]   (bench/engine/run.sh first: it makes the checkpoints)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
peers="$root/bench/.peers"
version=0.3.36
venv="$peers/llama-venv"
engine_venv="$root/.venv-engine"
model="${1:-$root/target/bench-engine/model}"
[[ -f "$model/config.json" ]] || { echo "bench/engine/llama.sh: run bench/engine/run.sh first (no $model)" >&2; exit 1; }
mkdir -p "$peers"
sdist="$peers/llama_cpp_python-$version.tar.gz"
if [[ ! -f "$sdist" ]]; then
  "$engine_venv/bin/pip" download -q --no-deps --no-binary :all: -d "$peers" "llama-cpp-python==$version"
fi
src="$peers/llama-cpp-python-$version/vendor/llama.cpp"
[[ -f "$src/convert_hf_to_gguf.py" ]] || tar -xzf "$sdist" -C "$peers"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  python3 -m venv "$venv"
  echo "building llama-cpp-python $version (compiles llama.cpp; minutes)" >&2
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" nice -n 10 "$venv/bin/pip" install -q "$sdist"
fi
export THREADS="${THREADS:-$(nproc)}" PROMPT_TOKENS="${PROMPT_TOKENS:-64}" DECODE_TOKENS="${DECODE_TOKENS:-64}"
results=()
for outtype in f32 bf16 q8_0; do
  gguf="$model-$outtype.gguf"
  [[ -f "$gguf" ]] || "$engine_venv/bin/python" "$root/bench/engine/llama_peer.py" convert "$src" "$model" "$gguf" "$outtype" >&2
  results+=("$("$venv/bin/python" "$root/bench/engine/llama_peer.py" run "$gguf" | tail -1)")
done
"$engine_venv/bin/python" "$root/bench/engine/peer_report.py" "$model" "${results[@]}"
