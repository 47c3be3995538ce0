"""DeepSeek-V3's FP8 release format, made from any f32/bf16 DeepSeek checkpoint, plus the engine's FP8 fixtures.

Linear weights of the decoder layers become float8_e4m3fn with one float32 `weight_scale_inv` per 128x128
block (edge blocks cut short); embeddings, norms, the router gate and lm_head stay as they were; config.json
gains `quantization_config` as in the release. The result is sharded with model.safetensors.index.json.

    .venv-engine/bin/python src/test/python/make_fp8_checkpoint.py fixtures       # src/test/resources/engine/v3-fp8-tiny + fp8-dir
    .venv-engine/bin/python src/test/python/make_fp8_checkpoint.py convert SRC DST  # e.g. the bench checkpoint

The reference outputs of the fixture come from transformers in float32 on the dequantized weights
(q * scale_inv), which is what the engine must compute. Seeded: running it again gives the same files.
"""
import json
import math
import os
import shutil
import sys
import tempfile

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import DeepseekV3Config, DeepseekV3ForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_engine_fixtures as base  # noqa: E402

FP8_MAX = 448.0
BLOCK = (128, 128)
# Decoder linear weights the release quantizes; the router gate ("mlp.gate.weight") is not among them.
QUANTIZED_SUFFIXES = ("q_proj.weight", "q_a_proj.weight", "q_b_proj.weight", "kv_a_proj_with_mqa.weight",
                      "kv_b_proj.weight", "o_proj.weight", "gate_proj.weight", "up_proj.weight", "down_proj.weight")


def is_quantized(name):
    return name.startswith("model.layers.") and name.endswith(QUANTIZED_SUFFIXES)


def quantize(w, block=BLOCK):
    """Block-wise e4m3 quantization: scale_inv = amax / 448 per block, q = w / scale_inv, saturated."""
    rows, cols = w.shape
    br, bc = block
    nr, nc = math.ceil(rows / br), math.ceil(cols / bc)
    w = w.float()
    scale = torch.empty(nr, nc, dtype=torch.float32)
    q = torch.empty(rows, cols, dtype=torch.float8_e4m3fn)
    for i in range(nr):
        for j in range(nc):
            blk = w[i * br:(i + 1) * br, j * bc:(j + 1) * bc]
            amax = float(blk.abs().max())
            s = amax / FP8_MAX if amax > 0 else 1.0
            scale[i, j] = s
            q[i * br:(i + 1) * br, j * bc:(j + 1) * bc] = (blk / s).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
    return q, scale


def dequantize(q, scale, block=BLOCK):
    rows, cols = q.shape
    br, bc = block
    full = scale.repeat_interleave(br, 0)[:rows].repeat_interleave(bc, 1)[:, :cols]
    return q.float() * full


def read_checkpoint(src):
    tensors = {}
    files = sorted(f for f in os.listdir(src) if f.endswith(".safetensors"))
    for f in files:
        with safe_open(os.path.join(src, f), framework="pt") as st:
            for k in st.keys():
                tensors[k] = st.get_tensor(k)
    return tensors


def write_sharded(out_dir, tensors, shard_bytes, split_scales=False):
    """Shards in name order; with split_scales every weight_scale_inv goes to the last shard, so the
    engine must find a weight's scale through the index rather than beside the weight."""
    names = sorted(tensors)
    scales = [n for n in names if split_scales and n.endswith("_scale_inv")]
    ordered = [n for n in names if n not in scales]
    shards, current, size = [], {}, 0
    for n in ordered:
        nbytes = tensors[n].numel() * tensors[n].element_size()
        if current and size + nbytes > shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[n] = tensors[n]
        size += nbytes
    if current:
        shards.append(current)
    if scales:
        shards.append({n: tensors[n] for n in scales})
    weight_map = {}
    total = 0
    for i, shard in enumerate(shards):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        save_file({k: v.contiguous() for k, v in shard.items()}, os.path.join(out_dir, fname), metadata={"format": "pt"})
        for k, v in shard.items():
            weight_map[k] = fname
            total += v.numel() * v.element_size()
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)


def to_release_format(tensors, block=BLOCK):
    """(fp8 checkpoint tensors, dequantized f32 tensors)."""
    fp8, dequant = {}, {}
    for name, t in tensors.items():
        if is_quantized(name) and t.dim() == 2:
            q, s = quantize(t, block)
            fp8[name] = q
            fp8[name + "_scale_inv"] = s
            dequant[name] = dequantize(q, s, block)
        else:
            fp8[name] = t
            dequant[name] = t.float()
    return fp8, dequant


def with_quantization_config(config_path, block=BLOCK):
    with open(config_path) as f:
        cfg = json.load(f)
    cfg["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                                  "weight_block_size": list(block)}
    with open(config_path, "w") as f:
        json.dump(cfg, f, indent=2)


def convert(src, dst, shard_bytes=1 << 30, block=BLOCK):
    """Writes the FP8 release format of checkpoint `src` to `dst`; returns the dequantized f32 tensors."""
    if os.path.exists(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    for f in os.listdir(src):
        if not f.endswith(".safetensors") and f != "model.safetensors.index.json":
            shutil.copy(os.path.join(src, f), dst)
    fp8, dequant = to_release_format(read_checkpoint(src), block)
    write_sharded(dst, fp8, shard_bytes)
    with_quantization_config(os.path.join(dst, "config.json"), block)
    return dequant


def fp8_config(vocab):
    # Sizes straddle the 128 block: hidden 160 = 128 + 32, intermediate 272 = 2 x 128 + 16, kv_b rows 256 exactly,
    # q_b rows 192 = 128 + 64, expert inner 48 (one edge block), q_lora 136, kv_lora 144.
    return DeepseekV3Config(
        vocab_size=vocab, hidden_size=160, intermediate_size=272, moe_intermediate_size=48,
        num_hidden_layers=3, first_k_dense_replace=1, num_attention_heads=4, num_key_value_heads=4,
        q_lora_rank=136, kv_lora_rank=144, qk_nope_head_dim=32, qk_rope_head_dim=16, v_head_dim=32,
        n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=2, n_group=2, topk_group=1,
        norm_topk_prob=True, routed_scaling_factor=2.5, max_position_embeddings=256,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                         "original_max_position_embeddings": 64, "beta_fast": 32, "beta_slow": 1,
                         "mscale": 1.0, "mscale_all_dim": 1.0},
        rms_norm_eps=1e-6, bos_token_id=0, eos_token_id=1, tie_word_embeddings=False,
        attn_implementation="eager")


def make_fp8_fixture(out_dir):
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    tok, fast = base.write_tokenizer(out_dir, 400, "v3")
    torch.manual_seed(0)
    model = DeepseekV3ForCausalLM(fp8_config(tok.get_vocab_size())).eval()
    base.randomize(model)
    with tempfile.TemporaryDirectory() as f32_dir, tempfile.TemporaryDirectory() as dq_dir:
        model.save_pretrained(f32_dir)
        fp8, dequant = to_release_format(read_checkpoint(f32_dir))
        model.config.save_pretrained(out_dir)
        write_sharded(out_dir, fp8, 96 * 1024, split_scales=True)
        with_quantization_config(os.path.join(out_dir, "config.json"))
        # The oracle: transformers in float32 on exactly the weights q * scale_inv.
        model.config.save_pretrained(dq_dir)
        save_file({k: v.contiguous() for k, v in dequant.items()}, os.path.join(dq_dir, "model.safetensors"),
                  metadata={"format": "pt"})
        reference = DeepseekV3ForCausalLM.from_pretrained(dq_dir, attn_implementation="eager",
                                                          dtype=torch.float32).eval()
        messages = [{"role": "user", "content": "Explain the router of a mixture of experts in simple words, please."}]
        prompt = fast.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
        logits, greedy, margin = base.reference_outputs(reference, prompt)
    for extra in ("generation_config.json",):
        if os.path.exists(os.path.join(out_dir, extra)):
            os.remove(os.path.join(out_dir, extra))
    fixture = {"prompt_ids": prompt, "logits": logits.tolist(), "greedy_ids": greedy, "min_greedy_margin": margin}
    with open(os.path.join(out_dir, "..", os.path.basename(out_dir) + ".fixture.json"), "w") as f:
        json.dump(fixture, f)
    quantized = sum(1 for k in fp8 if k.endswith("_scale_inv"))
    print(out_dir, "prompt", len(prompt), "quantized weights", quantized, "min greedy margin %.4g" % margin,
          "files", sorted(os.listdir(out_dir)))


def make_codes(out_dir):
    """Every e4m3 code beside torch's float32 value of it, and tensors of dtypes the engine must refuse by name."""
    os.makedirs(out_dir, exist_ok=True)
    codes = torch.arange(256, dtype=torch.int32).to(torch.uint8).view(torch.float8_e4m3fn)
    save_file({"codes": codes, "codes_as_f32": codes.float(),
               "steps": torch.arange(4, dtype=torch.int64),
               "e5m2": torch.zeros(4).to(torch.float8_e5m2)},
              os.path.join(out_dir, "codes.safetensors"))


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "fixtures"
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    if what == "fixtures":
        root = os.path.join(base.ROOT, "src", "test", "resources", "engine")
        make_fp8_fixture(os.path.join(root, "v3-fp8-tiny"))
        make_codes(os.path.join(root, "fp8-dir"))
    elif what == "convert":
        convert(sys.argv[2], sys.argv[3])
        print(sys.argv[3], sorted(os.listdir(sys.argv[3])))
    else:
        raise SystemExit("usage: make_fp8_checkpoint.py fixtures | convert SRC DST")


if __name__ == "__main__":
    main()
