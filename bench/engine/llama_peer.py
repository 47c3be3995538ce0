"""llama.cpp as the embedded engine's peer (not a test): the benchmark checkpoint converted to GGUF with
llama.cpp's own convert_hf_to_gguf.py (deepseek2 architecture), and one run's llama-bench and Java figures
turned into ratios at the same thread count and prompt/decode lengths.

    bench/engine/llama.sh [convert | run f32|bf16]     # calls this

Usage here: llama_peer.py convert LLAMA_SRC MODEL_DIR OUT.gguf OUTTYPE   (run with the engine venv: needs torch)
            llama_peer.py report PRECISION LLAMA_BENCH.json JAVA.json
"""
import json
import os
import sys
import time

THREADS = int(os.environ.get("THREADS", os.cpu_count()))
PROMPT = int(os.environ.get("PROMPT_TOKENS", "64"))
DECODE = int(os.environ.get("DECODE_TOKENS", "64"))


def convert(llama_src, model_dir, out, outtype):
    """Runs convert_hf_to_gguf.py. The benchmark's tokenizer is a small BPE trained by the fixture maker, whose
    pre-tokenizer hash llama.cpp does not know; it uses DeepSeek-V3's pre-tokenizer rules, so it is named that."""
    sys.path.insert(0, llama_src)
    sys.path.insert(1, os.path.join(llama_src, "gguf-py"))
    sys.argv = ["convert_hf_to_gguf.py", model_dir, "--outfile", out, "--outtype", outtype]
    import conversion.base as base
    base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "deepseek-v3"
    import convert_hf_to_gguf
    convert_hf_to_gguf.main()


def report(prec, llama_json, java_json):
    """One run's figures and their ratios: llama-bench's pp (prefill) and tg (decode) means against the Java
    engine's, and both engines' decode as a fraction of the bound the Java probe's read bandwidth sets
    (the same weights at the same precision: the bytes one token reads are the same for both)."""
    with open(llama_json) as f:
        rows = json.load(f)
    with open(java_json) as f:
        java = json.load(f)
    pp = next(r for r in rows if r["n_prompt"] > 0 and r["n_gen"] == 0)
    tg = next(r for r in rows if r["n_gen"] > 0 and r["n_prompt"] == 0)
    llama = {"prefill_tok_s": pp["avg_ts"], "prefill_stddev": pp["stddev_ts"], "decode_tok_s": tg["avg_ts"],
             "decode_stddev": tg["stddev_ts"], "threads": pp["n_threads"], "model_type": pp.get("model_type"),
             "model_mb": pp.get("model_size", 0) / 1e6, "build_commit": pp.get("build_commit"),
             "repetitions": len(pp.get("samples_ts", [])) or None}
    bound = java["bandwidth_bound_decode_tok_s"]
    llama["decode_fraction_of_bound"] = llama["decode_tok_s"] / bound
    summary = {
        "precision": prec, "threads": THREADS, "prompt_tokens": PROMPT, "decode_tokens": DECODE,
        "java": java, "llama_cpp": llama,
        "ratios_java_over_llama_cpp": {"decode": java["decode_tok_s"] / llama["decode_tok_s"],
                                       "prefill": java["prefill_tok_s"] / llama["prefill_tok_s"]},
        "decode_fraction_of_bound": {"java": java["decode_fraction_of_bound"],
                                     "llama_cpp": llama["decode_fraction_of_bound"]},
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        convert(*sys.argv[2:6])
    elif sys.argv[1] == "report":
        report(*sys.argv[2:5])
    else:
        raise SystemExit(__doc__)
