"""llama.cpp as the embedded engine's peer (not a test): the benchmark checkpoint converted to GGUF with
llama.cpp's own convert_hf_to_gguf.py (deepseek2 architecture), then prefill and decode timed through
llama-cpp-python at the same thread count and prompt/decode lengths as the Java engine.

    bench/engine/llama.sh [MODEL_DIR]      # builds llama-cpp-python once (minutes), converts, runs this

Usage here: llama_peer.py convert LLAMA_SRC MODEL_DIR OUT.gguf OUTTYPE   (run with the engine venv: needs torch)
            llama_peer.py run GGUF                                    (run with the llama venv)
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


def run(gguf):
    from llama_cpp import Llama
    llm = Llama(model_path=gguf, n_threads=THREADS, n_threads_batch=THREADS, n_ctx=PROMPT + DECODE + 16,
                n_batch=PROMPT, n_ubatch=PROMPT, verbose=False)
    vocab = llm.n_vocab()
    prompt = [(i * 7919 + 13) % vocab for i in range(PROMPT)]
    for _ in range(2):  # warm-up with the measured shapes
        llm.reset()
        llm.eval(prompt)
        for i in range(4):
            llm.eval([prompt[i]])
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    for i in range(DECODE):
        llm.eval([prompt[i % PROMPT]])
    t2 = time.perf_counter()
    print(json.dumps({"prefill_tok_s": PROMPT / (t1 - t0), "decode_tok_s": DECODE / (t2 - t1), "threads": THREADS,
                      "gguf": os.path.basename(gguf), "gguf_mb": os.path.getsize(gguf) / 1e6}))


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        convert(*sys.argv[2:6])
    elif sys.argv[1] == "run":
        run(sys.argv[2])
    else:
        raise SystemExit(__doc__)
