"""Build a tiny random-weight Llama and a tokenizer trained here, as the files of a hub repo; and, with a
second directory, a LoRA adapter for it (PEFT's layout: adapter_config.json and adapter_model.safetensors,
the tensors written here, so no peft is needed).

Run with the engine venv's python (it has torch, transformers and tokenizers; the test venv does not):
    python tiny_model.py OUT_DIR [LORA_OUT_DIR]
The engine tier serves OUT_DIR's files from a stand-in hub (tests/hub_standin.py), and the chart's own
stage-weights script stages them into HF_HOME, so the engine starts from what that script leaves.
Nothing is downloaded: the tokenizer is trained here on a few sentences.
"""

from __future__ import annotations

import sys
from pathlib import Path

# vLLM's CPU attention supports head sizes 32, 64, 80, ... (cpu_attn.py); 16 fails at the first request
# with "Unsupported CPU attention configuration: head_dim=16". hidden 64 / 2 heads = head_dim 32.
HIDDEN, HEADS, LAYERS = 64, 2, 2
# The adapter: rank 8 on the attention's q and v projections (64 -> 64 each with 2 KV heads of 32), scaled
# up (alpha / r = 4, weights ~N(0, 1)) so its answers visibly differ from the base model's.
LORA_RANK, LORA_ALPHA, LORA_TARGETS = 8, 32, ("q_proj", "v_proj")
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
CORPUS = [
    "hello world",
    "the quick brown fox jumps over the lazy dog",
    "vllm serves models on cpu",
    "a tiny model says random things",
    "user assistant system",
]


def build(out: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1000,
        special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=HIDDEN,
        intermediate_size=2 * HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        num_key_value_heads=HEADS,
        max_position_embeddings=512,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(cfg).save_pretrained(out, safe_serialization=True)
    fast.save_pretrained(out)


def build_lora(out: Path, base_model: str) -> None:
    import json

    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(1)
    tensors = {}
    for layer in range(LAYERS):
        for target in LORA_TARGETS:
            prefix = f"base_model.model.model.layers.{layer}.self_attn.{target}"
            tensors[f"{prefix}.lora_A.weight"] = torch.randn(LORA_RANK, HIDDEN, generator=generator)
            tensors[f"{prefix}.lora_B.weight"] = torch.randn(HIDDEN, LORA_RANK, generator=generator)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"))
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_model,
        "r": LORA_RANK,
        "lora_alpha": LORA_ALPHA,
        "lora_dropout": 0.0,
        "target_modules": list(LORA_TARGETS),
        "bias": "none",
        "fan_in_fan_out": False,
        "modules_to_save": None,
        "use_rslora": False,
        "use_dora": False,
    }
    (out / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")


if __name__ == "__main__":
    build(Path(sys.argv[1]))
    if len(sys.argv) > 2:
        build_lora(Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "tiny-org/tiny-llama")
