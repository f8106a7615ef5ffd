"""`vllm-models litellm-config` registers the models in a LiteLLM gateway the user already runs: its
output, loaded into the real LiteLLM proxy, routes each model to its engine with the models' prices."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from e2e_harness import NAMESPACE, RELEASE, VENV_BIN, helm_template
from vllm_models.local.manifest import to_loopback
from vllm_models.local.processes import Proc, answers, free_port, wait_until
from vllm_models.local.stack import Engine, base_env, loopback_urls, start_engines

MODELS = [
    {"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct", "requestGPU": 1,
     "pricing": {"inputCostPerToken": 0.0000005, "outputCostPerToken": 0.0000015}},
    {"name": "qwen", "modelURL": "Qwen/Qwen2.5-7B-Instruct", "servedModelName": "qwen2.5-7b-instruct",
     "apiKeySecret": {"name": "qwen-engine-key", "key": "api-key"}},
]  # fmt: skip
GATEWAY_KEY = "sk-existing-gateway"
QWEN_KEY_SECRET = {
    "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "qwen-engine-key", "namespace": NAMESPACE},
    "data": {"api-key": base64.b64encode(b"sk-qwen-engine").decode()},
}  # fmt: skip


def test_litellm_config_routes_each_model_through_an_existing_gateway(helm: str, tmp_path: Path) -> None:
    models_file = tmp_path / "models.yaml"
    models_file.write_text(yaml.safe_dump(MODELS, sort_keys=False))
    entries_file = tmp_path / "model_list.yaml"
    written = subprocess.run(
        [str(VENV_BIN / "vllm-models"), "litellm-config", "-f", str(models_file), "-o", str(entries_file),
         "--release", RELEASE, "--namespace", NAMESPACE],
        capture_output=True, text=True, check=False, timeout=120, env={**base_env(), "VLLM_HELM": helm},
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    text = entries_file.read_text()
    assert "os.environ/VLLM_API_KEY_QWEN" in text and "Set in LiteLLM's environment" in text

    # the release those entries point at, its engines simulated on loopback (qwen's wants its own key)
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"models": MODELS, "router": {"auth": {"masterKey": {"value": "x"}}}}))
    release = helm_template(helm, [values])
    release.objects.append(QWEN_KEY_SECRET)
    procs: list[Proc | Engine] = []
    try:
        engines = start_engines(release, tmp_path, procs)
        config = yaml.safe_load(to_loopback(text, loopback_urls(release, engines)))
        config["general_settings"] = {"master_key": GATEWAY_KEY}
        (tmp_path / "gateway.yaml").write_text(yaml.safe_dump(config))
        port = free_port()
        env = {**base_env(), "HOME": str(tmp_path), "VLLM_API_KEY_QWEN": engines["qwen"].api_key}
        argv = [str(VENV_BIN / "litellm"), "--config", str(tmp_path / "gateway.yaml"), "--host", "127.0.0.1",
                "--port", str(port)]  # fmt: skip
        gateway = Proc("gateway", argv, env, tmp_path / "gateway.log")
        procs.append(gateway)
        gateway.start()
        url = f"http://127.0.0.1:{port}"
        wait_until(
            "the gateway's /health/liveliness", lambda: answers(f"{url}/health/liveliness"), 90, gateway
        )
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {GATEWAY_KEY}"}, timeout=30) as c:
            for model, engine in engines.items():
                chat = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
                answer = c.post("/v1/chat/completions", json=chat)
                assert answer.status_code == 200, answer.text
                assert engine.engine_id in answer.text, f"{model} did not reach its engine: {answer.text}"
            info = {m["model_name"]: m["model_info"] for m in c.get("/model/info").json()["data"]}
        assert info["llama3"]["input_cost_per_token"] == pytest.approx(0.0000005)
        assert info["llama3"]["output_cost_per_token"] == pytest.approx(0.0000015)
    finally:
        for p in reversed(procs):
            p.stop()
