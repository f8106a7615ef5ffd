"""`vllm-models verify` against the rendered routers: a healthy release passes with figures per model; a
slow engine and a dead one each fail with a line that names the model and says why."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml
from e2e_harness import VALUES, VENV_BIN
from vllm_models.local.stack import Router

from tests.support import wait_for

MODELS: list[dict[str, Any]] = yaml.safe_load(VALUES.read_text())["models"]


def models_of(router: Router) -> list[dict[str, Any]]:
    """The models the router's release was rendered from: vllm-router's has no LoRA adapters (conftest)."""
    if router.engine == "litellm":
        return MODELS
    return [{k: v for k, v in m.items() if k != "loraAdapters"} for m in MODELS]


def verify(router: Router, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    models_file = tmp_path / "models.yaml"
    models_file.write_text(yaml.safe_dump(models_of(router), sort_keys=False))
    return subprocess.run(
        [str(VENV_BIN / "vllm-models"), "verify", "-f", str(models_file), "--url", router.url,
         "--key", router.key, "--requests", "6", "--concurrency", "3", *args],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_verify_passes_a_healthy_release_with_figures_per_model(router: Router, tmp_path: Path) -> None:
    result = verify(router, tmp_path, "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["health"] == "ok"
    # each model, then the LoRA adapters it serves
    expected = [
        n for m in models_of(router) for n in [m["name"], *(a["name"] for a in m.get("loraAdapters", []))]
    ]
    assert [m["model"] for m in report["models"]] == expected
    for model in report["models"]:
        assert model["succeeded"] == 6 and 0 < model["ttft_p50"] <= model["e2e_p95"] < 3


def test_verify_fails_a_slow_and_a_dead_engine_by_name(router: Router, tmp_path: Path) -> None:
    slow, dead = router.engines["llama3"], router.engines["coder"]
    slow.set_delay(0.6)
    dead.stop()
    try:
        result = verify(router, tmp_path, "--p95-limit", "0.5", "--timeout", "10")
    finally:
        slow.set_delay(0)
        dead.start()
        # the router is shared by the tier: give it back serving (vllm-router reopens its circuits late)
        wait_for(
            lambda: verify(router, tmp_path, "--requests", "1").returncode == 0,
            "the router to serve all models again",
            90,
            2,
        )
    assert result.returncode == 1, result.stdout
    lines = {line.split(":", 1)[0]: line for line in result.stdout.splitlines()}
    assert "p95 end-to-end" in lines["llama3"] and "over the 0.5s limit" in lines["llama3"], result.stdout
    assert "chat failed: HTTP" in lines["coder"], result.stdout
    assert lines["qwen"].startswith("qwen: ok;"), result.stdout
