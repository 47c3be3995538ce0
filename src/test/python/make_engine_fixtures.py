"""Creates tiny random DeepSeek-V3 / V2-Lite checkpoints with Hugging Face transformers itself, and the
reference outputs the Java engine is tested against.

    .venv-engine/bin/python src/test/python/make_engine_fixtures.py fixtures   # src/test/resources/engine/
    .venv-engine/bin/python src/test/python/make_engine_fixtures.py bundled    # models/cleargate-tiny-moe/
    .venv-engine/bin/python src/test/python/make_engine_fixtures.py bench DIR  # ~200M total / ~40M active, not committed

Everything is seeded: running it again gives the same files (for the same pinned versions).
"""
import json
import math
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (DeepseekV2Config, DeepseekV2ForCausalLM, DeepseekV3Config, DeepseekV3ForCausalLM,
                          PreTrainedTokenizerFast)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"

# DeepSeek-style pre-tokenization: digits in groups of up to three, CJK runs, words with a leading
# non-letter, punctuation runs, newlines, spaces; then byte-level without GPT-2's regex.
PRE_TOKENIZER = pre_tokenizers.Sequence([
    pre_tokenizers.Split(Regex(r"\p{N}{1,3}"), behavior="isolated"),
    pre_tokenizers.Split(Regex(r"[一-龥\u3040-ゟ゠-ヿ]+"), behavior="isolated"),
    pre_tokenizers.Split(Regex(r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"),
                         behavior="isolated"),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
])

CORPUS = """
Cleargate is a gateway in front of self-hosted language models. It authenticates every request, resolves the tenant,
asks the policy engine for a decision, moderates the input, routes the request to a backend, writes an audit record,
and moderates the output before the client sees it. The embedded engine runs a DeepSeek-style mixture of experts
model inside the gateway process. Multi-head latent attention compresses keys and values into a small latent vector,
so the cache needs only a few hundred numbers per token and layer. The router scores every expert, keeps the best
groups, and sends each token to a handful of experts; a shared expert sees every token.
The quick brown fox jumps over the lazy dog. Numbers like 12345, 3.14159 and 2026 appear in text, as do dates such as
2024-05-17 and prices like $19.99 or 42%. Questions? Answers! Lists: one, two, three; code like `x = f(y) + 1`.
Hello world. Good morning, how are you today? I am fine, thank you. What is the capital of France? Paris is the
capital of France. Explain the theory of relativity in simple words. Write a short poem about the sea.
Les modèles de langage apprennent des régularités. Über allen Gipfeln ist Ruh. ¿Dónde está la biblioteca?
你好，世界。机器学习很有趣。こんにちは、世界。カタカナとひらがな。 Emoji: 🙂 🚀 ✨.
def forward(x):\n    return x * 2\n\nfor i in range(10):\n    print(i)\n
"""


def build_tokenizer(vocab_size, specials):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = PRE_TOKENIZER
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    lines = [line for line in CORPUS.replace("\\n", "\n").splitlines(keepends=True)]
    tok.train_from_iterator(lines * 4, trainer)
    return tok


V3_TEMPLATE = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}{% endif %}{% endfor %}"
               "{% for m in messages %}{% if m['role'] == 'user' %}{{ '" + USER + "' + m['content'] }}"
               "{% elif m['role'] == 'assistant' %}{{ '" + ASSISTANT + "' + m['content'] + eos_token }}{% endif %}{% endfor %}"
               "{% if add_generation_prompt %}{{ '" + ASSISTANT + "' }}{% endif %}")
V2_TEMPLATE = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ 'User: ' + m['content'] + '\n\n' }}"
               "{% elif m['role'] == 'assistant' %}{{ 'Assistant: ' + m['content'] + eos_token }}"
               "{% elif m['role'] == 'system' %}{{ m['content'] + '\n\n' }}{% endif %}{% endfor %}"
               "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")

TOKENIZER_SAMPLES = [
    "Hello world.",
    "  leading spaces and trailing   ",
    "Numbers 1234567 and 3.14159, dates 2024-05-17, money $19.99!",
    "Mixed: Über, ¿Dónde?, 你好，世界。こんにちは カタカナ",
    "Emoji 🙂🚀 and symbols ∑∫ ≠ ±",
    "line one\nline two\r\n\n\ttabbed",
    "def f(x):\n    return x*2  # comment",
    BOS + "system text" + USER + "question?" + ASSISTANT + "answer" + EOS,
    "unseen words: zyxwv qqqq jjjj",
]
CHAT_SAMPLES = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi there"},
     {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Count: 1 2 3"}],
]


def write_tokenizer(out_dir, vocab_size, style):
    specials = [BOS, EOS, USER, ASSISTANT] if style == "v3" else [BOS, EOS]
    tok = build_tokenizer(vocab_size, specials)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS)
    fast.chat_template = V3_TEMPLATE if style == "v3" else V2_TEMPLATE
    fast.save_pretrained(out_dir)
    # Keep tokenizer_config.json small and explicit about what the engine reads.
    cfg_path = os.path.join(out_dir, "tokenizer_config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["add_bos_token"] = True
    cfg["add_eos_token"] = False
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
    return tok, fast


def tokenizer_fixture(tok, fast):
    encodings = [{"text": s, "ids": tok.encode(s).ids} for s in TOKENIZER_SAMPLES]
    decodings = [{"ids": e["ids"], "text": tok.decode(e["ids"], skip_special_tokens=True)} for e in encodings]
    chats = [{"messages": m, "ids": fast.apply_chat_template(m, add_generation_prompt=True, tokenize=True,
                                                              return_dict=False)} for m in CHAT_SAMPLES]
    return {"encode": encodings, "decode": decodings, "chat": chats}


def randomize(model, std_scale=1.0, bias_experts=None):
    """Replaces transformers' tiny init with weights large enough that logits have structure."""
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[-1]
                p.copy_(std_scale * torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
        for name, buf in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                # Non-negative, so that masking dropped groups to 0 (HF) or -inf (official) agree.
                buf.copy_(0.3 * torch.rand(buf.shape, generator=g))


def v3_config(vocab):
    return DeepseekV3Config(
        vocab_size=vocab, hidden_size=64, intermediate_size=128, moe_intermediate_size=32,
        num_hidden_layers=3, first_k_dense_replace=1, num_attention_heads=4, num_key_value_heads=4,
        q_lora_rank=32, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
        n_routed_experts=16, n_shared_experts=1, num_experts_per_tok=4, n_group=4, topk_group=2,
        norm_topk_prob=True, routed_scaling_factor=2.5, max_position_embeddings=256,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                         "original_max_position_embeddings": 64, "beta_fast": 32, "beta_slow": 1,
                         "mscale": 1.0, "mscale_all_dim": 0.8},
        rms_norm_eps=1e-6, bos_token_id=0, eos_token_id=1, tie_word_embeddings=False,
        attn_implementation="eager")


def v2_config(vocab):
    return DeepseekV2Config(
        vocab_size=vocab, hidden_size=64, intermediate_size=128, moe_intermediate_size=32,
        num_hidden_layers=3, first_k_dense_replace=1, num_attention_heads=4, num_key_value_heads=4,
        q_lora_rank=None, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
        n_routed_experts=12, n_shared_experts=2, num_experts_per_tok=3, n_group=1, topk_group=1,
        topk_method="greedy", norm_topk_prob=False, routed_scaling_factor=1.0, max_position_embeddings=256,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                         "original_max_position_embeddings": 64, "beta_fast": 32, "beta_slow": 1,
                         "mscale": 0.707, "mscale_all_dim": 0.707},
        rms_norm_eps=1e-6, bos_token_id=0, eos_token_id=1, tie_word_embeddings=False,
        attn_implementation="eager")


@torch.no_grad()
def reference_outputs(model, prompt_ids, new_tokens=32):
    ids = torch.tensor([prompt_ids])
    logits = model(ids).logits[0].float()
    seq = list(prompt_ids)
    greedy, margins = [], []
    for _ in range(new_tokens):
        last = model(torch.tensor([seq])).logits[0, -1].float()
        top2 = torch.topk(last, 2).values
        margins.append(float(top2[0] - top2[1]))
        nxt = int(torch.argmax(last))
        greedy.append(nxt)
        seq.append(nxt)
    return logits, greedy, min(margins, default=float('inf'))


def make_checkpoint(out_dir, style, cls, config, shard=None):
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    tok, fast = write_tokenizer(out_dir, 400, style)
    vocab = tok.get_vocab_size()
    torch.manual_seed(0)
    model = cls(config(vocab)).eval()
    randomize(model)
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(out_dir, **kwargs)
    # The fixture comes from the checkpoint as transformers reads it back, so it covers what is on disk.
    reloaded = cls.from_pretrained(out_dir, attn_implementation="eager").eval()
    messages = [{"role": "user", "content": "Explain the router of a mixture of experts in simple words, please."}]
    prompt = fast.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
    assert len(prompt) >= 16, prompt
    logits, greedy, margin = reference_outputs(reloaded, prompt)
    direct, _, _ = reference_outputs(model, prompt, 0)
    assert torch.allclose(direct, logits), "reloaded checkpoint differs from the model in memory"
    fixture = {"prompt_ids": prompt, "logits": logits.tolist(), "greedy_ids": greedy,
               "min_greedy_margin": margin, "tokenizer": tokenizer_fixture(tok, fast)}
    with open(os.path.join(out_dir, "..", os.path.basename(out_dir) + ".fixture.json"), "w") as f:
        json.dump(fixture, f, ensure_ascii=False)
    print(out_dir, "vocab", vocab, "prompt", len(prompt), "min greedy margin %.4g" % margin,
          "files", sorted(os.listdir(out_dir)))


def make_bf16_checkpoint(out_dir):
    """v3-bf16-tiny: the v3 layout saved in bf16, with two references from that same file: transformers in
    float32 (the bf16 weights widened exactly, f32 arithmetic: what the engine computes) and transformers in
    bfloat16 (every activation rounded to bf16 as well: what a bf16 deployment of transformers computes)."""
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    tok, fast = write_tokenizer(out_dir, 400, "v3")
    torch.manual_seed(0)
    model = DeepseekV3ForCausalLM(v3_config(tok.get_vocab_size())).eval()
    randomize(model)
    model.to(torch.bfloat16).save_pretrained(out_dir)
    messages = [{"role": "user", "content": "Explain the router of a mixture of experts in simple words, please."}]
    prompt = fast.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
    as_f32 = DeepseekV3ForCausalLM.from_pretrained(out_dir, dtype=torch.float32, attn_implementation="eager").eval()
    as_bf16 = DeepseekV3ForCausalLM.from_pretrained(out_dir, dtype=torch.bfloat16, attn_implementation="eager").eval()
    assert next(as_bf16.parameters()).dtype == torch.bfloat16
    logits, greedy, margin = reference_outputs(as_f32, prompt)
    logits_bf16, greedy_bf16, _ = reference_outputs(as_bf16, prompt)
    fixture = {"prompt_ids": prompt, "logits": logits.tolist(), "greedy_ids": greedy, "min_greedy_margin": margin,
               "logits_bf16_compute": logits_bf16.tolist(), "greedy_ids_bf16_compute": greedy_bf16}
    with open(os.path.join(out_dir, "..", os.path.basename(out_dir) + ".fixture.json"), "w") as f:
        json.dump(fixture, f, ensure_ascii=False)
    worst = float((logits - logits_bf16).abs().max())
    print(out_dir, "prompt", len(prompt), "max |f32 - bf16 compute| %.4g" % worst,
          "greedy equal", greedy == greedy_bf16, "files", sorted(os.listdir(out_dir)))


def make_bundled(out_dir):
    """The model `bin/cleargate up` serves: random weights in DeepSeek-V3 layout, bf16, ~10 MB."""
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    tok, fast = write_tokenizer(out_dir, 1024, "v3")
    config = DeepseekV3Config(
        vocab_size=tok.get_vocab_size(), hidden_size=256, intermediate_size=512, moe_intermediate_size=96,
        num_hidden_layers=4, first_k_dense_replace=1, num_attention_heads=4, num_key_value_heads=4,
        q_lora_rank=128, kv_lora_rank=128, qk_nope_head_dim=32, qk_rope_head_dim=16, v_head_dim=32,
        n_routed_experts=16, n_shared_experts=1, num_experts_per_tok=4, n_group=4, topk_group=2,
        norm_topk_prob=True, routed_scaling_factor=2.5, max_position_embeddings=4096,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                         "original_max_position_embeddings": 1024, "beta_fast": 32, "beta_slow": 1,
                         "mscale": 1.0, "mscale_all_dim": 1.0},
        bos_token_id=0, eos_token_id=1, attn_implementation="eager")
    torch.manual_seed(0)
    model = DeepseekV3ForCausalLM(config).eval()
    randomize(model)
    model.to(torch.bfloat16).save_pretrained(out_dir)
    for extra in ("generation_config.json",):
        if os.path.exists(os.path.join(out_dir, extra)):
            os.remove(os.path.join(out_dir, extra))
    print(out_dir, sorted(os.listdir(out_dir)))


def make_bench(out_dir):
    """~213M total / ~45M active parameters (f32), for bench/engine. Not committed."""
    os.makedirs(out_dir, exist_ok=True)
    tok, fast = write_tokenizer(out_dir, 1024, "v3")
    config = DeepseekV3Config(
        vocab_size=8192, hidden_size=1024, intermediate_size=2816, moe_intermediate_size=256,
        num_hidden_layers=8, first_k_dense_replace=1, num_attention_heads=8, num_key_value_heads=8,
        q_lora_rank=256, kv_lora_rank=256, qk_nope_head_dim=64, qk_rope_head_dim=32, v_head_dim=64,
        n_routed_experts=32, n_shared_experts=1, num_experts_per_tok=2, n_group=4, topk_group=2,
        norm_topk_prob=True, routed_scaling_factor=2.5, max_position_embeddings=4096,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                         "original_max_position_embeddings": 1024, "beta_fast": 32, "beta_slow": 1,
                         "mscale": 1.0, "mscale_all_dim": 1.0},
        bos_token_id=0, eos_token_id=1, attn_implementation="eager")
    torch.manual_seed(0)
    model = DeepseekV3ForCausalLM(config).eval()
    randomize(model)
    model.save_pretrained(out_dir)
    print(out_dir, sum(p.numel() for p in model.parameters()), "parameters")


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "fixtures"
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    if what == "fixtures":
        base = os.path.join(ROOT, "src", "test", "resources", "engine")
        os.makedirs(base, exist_ok=True)
        make_checkpoint(os.path.join(base, "v3-tiny"), "v3", DeepseekV3ForCausalLM, v3_config)
        make_checkpoint(os.path.join(base, "v2-lite-tiny"), "v2", DeepseekV2ForCausalLM, v2_config, shard="100KB")
        g = torch.Generator().manual_seed(7)
        a = torch.cat([torch.randn(61, generator=g) * 3,
                       torch.tensor([0.0, -0.0, 1e-6, -65504.0, 65504.0, 1e-8, 3.0e38])])
        m = torch.randn(5, 37, generator=g)
        os.makedirs(os.path.join(base, "dtypes-dir"), exist_ok=True)
        save_file({"a_f16": a.half(), "a_f16_as_f32": a.half().float(),
                   "a_bf16": a.bfloat16(), "a_bf16_as_f32": a.bfloat16().float(),
                   "m_bf16": m.bfloat16(), "m_bf16_as_f32": m.bfloat16().float(),
                   "m_f16": m.half(), "m_f16_as_f32": m.half().float()},
                  os.path.join(base, "dtypes-dir", "dtypes.safetensors"))
    elif what == "bf16":
        make_bf16_checkpoint(os.path.join(ROOT, "src", "test", "resources", "engine", "v3-bf16-tiny"))
    elif what == "bundled":
        make_bundled(os.path.join(ROOT, "models", "cleargate-tiny-moe"))
    elif what == "bench":
        make_bench(sys.argv[2])
    else:
        raise SystemExit("usage: make_engine_fixtures.py fixtures|bf16|bundled|bench DIR")


if __name__ == "__main__":
    main()
