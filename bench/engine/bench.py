"""Embedded engine benchmark (not a test): prefill and decode tokens/s of the Java engine on the same
checkpoint in f32, bf16 and DeepSeek-V3's FP8 release format; its read-bandwidth bound; and transformers
(torch.inference_mode, the same thread count) in f32 and bf16 as the baseline.

    bench/engine/run.sh            # creates the venv and the checkpoints if needed, then runs this

Prints a JSON summary and writes it to bench/results/engine-<date>.json. Figures come from one run on a
shared machine: compare the ratios within a run, not absolute numbers across runs.
"""
import json
import os
import re
import subprocess
import sys
import time

import torch
from transformers import AutoConfig, DeepseekV3ForCausalLM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else os.path.join(
    ROOT, "target", "bench-engine", "model")
THREADS = int(os.environ.get("THREADS", os.cpu_count()))
PROMPT = int(os.environ.get("PROMPT_TOKENS", "64"))
DECODE = int(os.environ.get("DECODE_TOKENS", "64"))


def peak_rss_kb(cmd, env=None):
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return out.stdout, rss


def java_run(model_dir):
    env = dict(os.environ, CLEARGATE_ENGINE_JAVA_OPTS=f"-Dcleargate.engine.threads={THREADS}")
    # Build first so the build does not count towards peak memory.
    subprocess.run(["bash", "-c", f'source "{ROOT}/bin/lib/engine.sh"; cleargate_engine 2>/dev/null || true'], env=env)
    cmd = ["bash", "-c", f'source "{ROOT}/bin/lib/engine.sh"; cleargate_engine bench --model "{model_dir}" '
                         f'--prompt-tokens {PROMPT} --decode-tokens {DECODE}']
    stdout, rss = peak_rss_kb(cmd, env)
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = rss / 1024
    return result


def torch_child(dtype_name):
    """transformers as its users run it for inference: inference_mode, KV cache, same threads, default attention."""
    torch.set_num_threads(THREADS)
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = DeepseekV3ForCausalLM.from_pretrained(MODEL, dtype=dtype).eval()
    vocab = model.config.vocab_size
    prompt = torch.tensor([[(i * 7919 + 13) % vocab for i in range(PROMPT)]])
    with torch.inference_mode():
        for _ in range(2):  # warm-up: same shapes as the measured run
            out = model(prompt, use_cache=True)
            past, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
            for _ in range(4):
                out = model(nxt, past_key_values=past, use_cache=True)
                past, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
        t0 = time.perf_counter()
        out = model(prompt, use_cache=True)
        t1 = time.perf_counter()
        past = out.past_key_values
        nxt = out.logits[:, -1:].argmax(-1)
        for _ in range(DECODE):
            out = model(nxt, past_key_values=past, use_cache=True)
            past = out.past_key_values
            nxt = out.logits[:, -1:].argmax(-1)
        t2 = time.perf_counter()
    print(json.dumps({"prefill_tok_s": PROMPT / (t1 - t0), "decode_tok_s": DECODE / (t2 - t1), "threads": THREADS,
                      "dtype": dtype_name, "torch": torch.__version__}))


def torch_run(dtype_name):
    stdout, rss = peak_rss_kb([sys.executable, __file__, MODEL, "--torch-child", dtype_name])
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = rss / 1024
    return result


def checkpoint(kind):
    """The benchmark checkpoint in another precision, made once beside the f32 one."""
    path = MODEL.rstrip("/") + "-" + kind
    if os.path.exists(os.path.join(path, "config.json")):
        return path
    sys.path.insert(0, os.path.join(ROOT, "src", "test", "python"))
    if kind == "fp8":
        import make_fp8_checkpoint
        make_fp8_checkpoint.convert(MODEL, path)
    elif kind == "bf16":
        model = DeepseekV3ForCausalLM.from_pretrained(MODEL, dtype=torch.float32)
        model.to(torch.bfloat16).save_pretrained(path)
        for f in os.listdir(MODEL):
            if f.startswith("tokenizer") and not os.path.exists(os.path.join(path, f)):
                subprocess.run(["cp", os.path.join(MODEL, f), path], check=True)
    return path


def main():
    if "--torch-child" in sys.argv:
        torch_child(sys.argv[sys.argv.index("--torch-child") + 1])
        return
    if "--checkpoints-only" in sys.argv:  # bench/engine/llama.sh on a fresh machine: the copies, no bench
        print(checkpoint("bf16"), checkpoint("fp8"))
        return
    config = AutoConfig.from_pretrained(MODEL)
    java = {"f32": java_run(MODEL), "bf16": java_run(checkpoint("bf16")), "fp8": java_run(checkpoint("fp8"))}
    hf = {"f32": torch_run("f32"), "bf16": torch_run("bf16")}
    summary = {
        "model": os.path.basename(MODEL.rstrip("/")),
        "layers": config.num_hidden_layers, "hidden": config.hidden_size,
        "threads": THREADS, "prompt_tokens": PROMPT, "decode_tokens": DECODE,
        "java": java, "transformers": hf,
        "ratios": {
            "decode_java_over_transformers_f32": java["f32"]["decode_tok_s"] / hf["f32"]["decode_tok_s"],
            "prefill_java_over_transformers_f32": java["f32"]["prefill_tok_s"] / hf["f32"]["prefill_tok_s"],
            "decode_java_bf16_over_transformers_bf16": java["bf16"]["decode_tok_s"] / hf["bf16"]["decode_tok_s"],
            "prefill_java_bf16_over_transformers_bf16": java["bf16"]["prefill_tok_s"] / hf["bf16"]["prefill_tok_s"],
            "decode_fraction_of_bound": {k: v["decode_fraction_of_bound"] for k, v in java.items()},
            "decode_fp8_over_f32": java["fp8"]["decode_tok_s"] / java["f32"]["decode_tok_s"],
        },
    }
    print(json.dumps(summary, indent=2))
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", time.strftime("engine-%Y%m%d-%H%M%S.json")), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
