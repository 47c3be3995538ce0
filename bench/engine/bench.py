"""Embedded engine benchmark (not a test): decode and prefill tokens/s of the Java engine versus
transformers eager on the same checkpoint and thread count, versus the memory-bandwidth bound.

    bench/engine/run.sh            # creates the venv and the checkpoint if needed, then runs this

Prints a JSON summary and writes it to bench/results/engine-<date>.json.
"""
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
from transformers import AutoConfig, DeepseekV3ForCausalLM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "bench-engine", "model")
THREADS = int(os.environ.get("THREADS", os.cpu_count()))
PROMPT = int(os.environ.get("PROMPT_TOKENS", "64"))
DECODE = int(os.environ.get("DECODE_TOKENS", "64"))


def copy_bandwidth():
    """Bytes moved per second (read + write) by a large tensor copy on THREADS threads, best of 5."""
    torch.set_num_threads(THREADS)
    src = torch.ones(512 * 1024 * 1024 // 4, dtype=torch.float32)
    dst = torch.empty_like(src)
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        dst.copy_(src)
        best = max(best, 2 * src.numel() * 4 / (time.perf_counter() - t))
    return best


def active_weight_bytes(c, bytes_per_value=4):
    """Weights read for one decoded token: attention, dense or selected+shared experts, router, norms, lm_head."""
    d, h = c.hidden_size, c.num_attention_heads
    qk = c.qk_nope_head_dim + c.qk_rope_head_dim
    q = d * c.q_lora_rank + c.q_lora_rank * h * qk if c.q_lora_rank else d * h * qk
    attn = q + d * (c.kv_lora_rank + c.qk_rope_head_dim) + c.kv_lora_rank * h * (c.qk_nope_head_dim + c.v_head_dim) \
        + h * c.v_head_dim * d
    expert = 3 * d * c.moe_intermediate_size
    total = 0
    for layer in range(c.num_hidden_layers):
        total += attn
        if layer < c.first_k_dense_replace:
            total += 3 * d * c.intermediate_size
        else:
            total += (c.num_experts_per_tok + c.n_shared_experts) * expert + c.n_routed_experts * d
    total += c.vocab_size * d + d  # lm_head (the embedding row read is negligible)
    return total * bytes_per_value




def peak_rss_kb(cmd, env=None):
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return out.stdout, rss


def java_run():
    env = dict(os.environ, CLEARGATE_ENGINE_JAVA_OPTS=f"-Dcleargate.engine.threads={THREADS}")
    cmd = ["bash", "-c", f'source "{ROOT}/bin/lib/engine.sh"; cleargate_engine bench --model "{MODEL}" '
                         f'--prompt-tokens {PROMPT} --decode-tokens {DECODE}']
    # Build first so the build does not count towards peak memory.
    subprocess.run(["bash", "-c", f'source "{ROOT}/bin/lib/engine.sh"; cleargate_engine 2>/dev/null || true'], env=env)
    stdout, rss = peak_rss_kb(cmd, env)
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = rss / 1024
    return result


def torch_child():
    torch.set_num_threads(THREADS)
    model = DeepseekV3ForCausalLM.from_pretrained(MODEL, attn_implementation="eager", dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    prompt = torch.tensor([[(i * 7919 + 13) % vocab for i in range(PROMPT)]])
    with torch.no_grad():
        model(prompt[:, :8])  # warm-up
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
    print(json.dumps({"prefill_tok_s": PROMPT / (t1 - t0), "decode_tok_s": DECODE / (t2 - t1), "threads": THREADS}))


def torch_run():
    stdout, rss = peak_rss_kb([sys.executable, __file__, MODEL, "--torch-child"])
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = rss / 1024
    return result


def main():
    if "--torch-child" in sys.argv:
        torch_child()
        return
    config = AutoConfig.from_pretrained(MODEL)
    bandwidth = copy_bandwidth()
    active = active_weight_bytes(config)
    java = java_run()
    hf = torch_run()
    bound = bandwidth / active
    summary = {
        "model": os.path.basename(MODEL.rstrip("/")),
        "threads": THREADS, "prompt_tokens": PROMPT, "decode_tokens": DECODE,
        "active_weight_mb_per_token_f32": active / 1e6,
        "copy_bandwidth_gb_s": bandwidth / 1e9,
        "bandwidth_bound_decode_tok_s": bound,
        "java": java, "transformers_eager": hf,
        "decode_speedup_vs_transformers": java["decode_tok_s"] / hf["decode_tok_s"],
        "decode_fraction_of_bandwidth_bound": java["decode_tok_s"] / bound,
    }
    print(json.dumps(summary, indent=2))
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", time.strftime("engine-%Y%m%d-%H%M%S.json")), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
