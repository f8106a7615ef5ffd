"""Build a tiny random-weight Llama into an HF cache, as the chart's stage-weights container leaves it.

Run with the engine venv's python (it has torch, transformers and tokenizers; the test venv does not):
    python tiny_model.py HF_HOME ORG/NAME
Layout written (what huggingface_hub.snapshot_download leaves, plus the chart's staging marker):
    HF_HOME/hub/models--ORG--NAME/blobs/<sha256 for .safetensors, git blob sha1 otherwise>
    HF_HOME/hub/models--ORG--NAME/snapshots/<commit>/<file> -> ../../blobs/<hash>
    HF_HOME/hub/models--ORG--NAME/refs/main                  (the commit, no newline)
    HF_HOME/vllm-models-staged/ORG--NAME@default             (the snapshot path, as _pod.tpl writes it)
Prints the snapshot directory. Nothing is downloaded: the tokenizer is trained here on a few sentences.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
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


def stage(hf_home: Path, repo: str) -> Path:
    commit = hashlib.sha1(repo.encode()).hexdigest()
    base = hf_home / "hub" / ("models--" + repo.replace("/", "--"))
    snap = base / "snapshots" / commit
    (base / "blobs").mkdir(parents=True, exist_ok=True)
    (base / "refs").mkdir(exist_ok=True)
    snap.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        build(Path(d))
        for f in sorted(Path(d).iterdir()):
            data = f.read_bytes()
            if f.suffix == ".safetensors":  # LFS file: the blob is named by its sha256
                h = hashlib.sha256(data).hexdigest()
            else:  # regular file: the blob is named by its git blob sha1
                h = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            shutil.copyfile(f, base / "blobs" / h)
            os.symlink(f"../../blobs/{h}", snap / f.name)
    (base / "refs" / "main").write_text(commit)
    marker_dir = hf_home / "vllm-models-staged"
    marker_dir.mkdir(exist_ok=True)
    (marker_dir / f"{repo}@default".replace("/", "--")).write_text(f"{snap}\n")
    return snap


if __name__ == "__main__":
    print(stage(Path(sys.argv[1]), sys.argv[2]))
