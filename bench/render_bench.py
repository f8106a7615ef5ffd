"""Benchmark: what a render costs as the model count grows, generate and `helm template` of N models.

Run: .venv/bin/python bench/render_bench.py [--sizes 1,10,100,500] [--repeat R]
For each N, writes a models.yaml of N distinct models (GPU products, caches and engine flags varied like
a real pool), then times `vllm-models generate` and `helm template` of its output (the pinned helm,
whole processes, best of R) and prints ms per run and per model, so a cost that is not linear shows as a
growing per-model figure.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv" / "bin" / "vllm-models"
HELM = ROOT / ".tools" / "bin" / "helm"
CHART = ROOT / "charts" / "vllm-models"
PRODUCTS = ["NVIDIA-L4", "NVIDIA-H100-80GB-HBM3", "NVIDIA-A100-SXM4-80GB"]


def models(n: int) -> list[dict[str, object]]:
    return [
        {
            "name": f"model-{i}",
            "modelURL": "Qwen/Qwen2.5-7B-Instruct",
            "gpuProduct": PRODUCTS[i % len(PRODUCTS)],
            "replicaCount": 1 + i % 2,
            "vllmConfig": {"maxModelLen": 4096, "maxNumSeqs": 16 + i % 8},
            "preflight": {"allowUnfit": True},
        }
        for i in range(n)
    ]


def best_of(repeat: int, cmd: list[str]) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1,10,100,500")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not HELM.exists():
        print("missing .tools/bin/helm: run ./hack/bootstrap", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            models_file, values = Path(tmp) / f"models-{n}.yaml", Path(tmp) / f"values-{n}.yaml"
            models_file.write_text(yaml.safe_dump(models(n), sort_keys=False))
            generate = [str(CLI), "generate", "--no-preflight", "-f", str(models_file), "-o", str(values)]
            gen = best_of(args.repeat, [*generate, "--router-master-key-secret", "vllm-api-key"])
            tpl = best_of(args.repeat, [str(HELM), "template", "vllm-models", str(CHART), "-f", str(values)])
            print(
                f"{n:4d} models: generate {gen * 1000:7.0f} ms, helm template {tpl * 1000:7.0f} ms "
                f"({tpl * 1000 / n:6.2f} ms per model)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
