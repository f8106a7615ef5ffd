"""Build a tiny random-weight Llama and a tokenizer trained here, as the files of a hub repo.

Run with the engine venv's python (it has torch, transformers and tokenizers; the test venv does not):
    python tiny_model.py OUT_DIR
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


if __name__ == "__main__":
    build(Path(sys.argv[1]))
