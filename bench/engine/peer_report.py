"""Java engine versus llama.cpp at equal precision and threads, from one run (called by llama.sh).

    peer_report.py MODEL_DIR LLAMA_F32_JSON LLAMA_BF16_JSON LLAMA_Q8_0_JSON

FP8 has no GGUF type; q8_0 (8-bit values with an f16 scale per 32) is llama.cpp's nearest 8-bit format,
so the Java FP8 run is set against it.
"""
import json
import os
import sys
import time

sys.argv = [sys.argv[0]] + sys.argv[1:]
model_dir = sys.argv[1]
llama = dict(zip(["f32", "bf16", "q8_0"], [json.loads(a) for a in sys.argv[2:5]]))
sys.argv = [sys.argv[0], model_dir]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

java = {"f32": bench.java_run(model_dir), "bf16": bench.java_run(bench.checkpoint("bf16")),
        "fp8": bench.java_run(bench.checkpoint("fp8"))}
pairs = {"f32": ("f32", "f32"), "bf16": ("bf16", "bf16"), "8-bit": ("fp8", "q8_0")}
summary = {
    "model": os.path.basename(model_dir.rstrip("/")), "threads": bench.THREADS,
    "prompt_tokens": bench.PROMPT, "decode_tokens": bench.DECODE, "java": java, "llama_cpp": llama,
    "ratios_java_over_llama_cpp": {
        name: {"decode": java[j]["decode_tok_s"] / llama[g]["decode_tok_s"],
               "prefill": java[j]["prefill_tok_s"] / llama[g]["prefill_tok_s"]}
        for name, (j, g) in pairs.items()},
}
print(json.dumps(summary, indent=2))
os.makedirs(os.path.join(bench.ROOT, "bench", "results"), exist_ok=True)
with open(os.path.join(bench.ROOT, "bench", "results", time.strftime("engine-llama-%Y%m%d-%H%M%S.json")), "w") as f:
    json.dump(summary, f, indent=2)
