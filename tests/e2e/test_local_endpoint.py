"""The quickstart's local endpoint: `vllm-models local-endpoint` serves an installed release on loopback.

What `just vllm::upgrade` feeds it on the local control plane (the release's manifest, then the Secrets
of its namespace, one YAML stream) is built here from `helm template` of models.example.yaml's generated
values and a Secret like the one `just vllm::set-api-key` writes. The processes it starts outlive the
command, `url` finds them, the `just` helper answers through them, and `down` stops every one.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from e2e_harness import CHART, NAMESPACE, RELEASE
from vllm_models.local.endpoint import STATE_FILE, is_leader_of
from vllm_models.local.processes import free_port

from tests.support import REPO_ROOT

CLI = REPO_ROOT / ".venv" / "bin" / "vllm-models"
MASTER_KEY = "sk-local-endpoint"

pytestmark = pytest.mark.e2e


def cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], input=input, capture_output=True, text=True, timeout=180, check=False
    )


def installed_release(helm: str, tmp: Path) -> str:
    values = tmp / "values.generated.yaml"
    generated = cli("generate", "-f", str(REPO_ROOT / "models.example.yaml"), "-o", str(values),
                    "--router-master-key-secret", "vllm-api-key")  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    manifest = subprocess.run(
        [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, "-f", str(values)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    secrets = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "vllm-api-key", "namespace": NAMESPACE},
                "data": {"master-key": base64.b64encode(MASTER_KEY.encode()).decode()},
            }
        ],
    }
    return f"{manifest}\n---\n{yaml.safe_dump(secrets)}"


def api(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ROUTER_URL": url, "ROUTER_KEY": MASTER_KEY}
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "just" / "api.py"), *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_local_endpoint_serves_the_installed_release_until_down(helm: str, tmp_path: Path) -> None:
    state_dir = tmp_path / "local-endpoint"
    up = cli("local-endpoint", "up", "--state-dir", str(state_dir), "--port", str(free_port()),
             input=installed_release(helm, tmp_path))  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "litellm (real)" in up.stdout and "simulated engines for: llama3, qwen" in up.stdout, up.stdout
        url = cli("local-endpoint", "url", "--state-dir", str(state_dir))
        assert url.returncode == 0, url.stderr
        listed = api(url.stdout.strip(), "models")
        assert listed.returncode == 0, listed.stderr
        assert set(listed.stdout.split()) == {"llama3", "qwen"}
        answer = api(url.stdout.strip(), "chat", "qwen", "What is the capital of France?")
        assert answer.returncode == 0, answer.stderr
        assert "sim-qwen" in answer.stdout, answer.stdout
        groups = json.loads((state_dir / STATE_FILE).read_text())["process_groups"]
        assert len(groups) == 3  # two engines and the router
    finally:
        down = cli("local-endpoint", "down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == "stopped 3 local endpoint process group(s)"
    assert not any(is_leader_of(g["pgid"], g["argv"]) for g in groups)
    gone = cli("local-endpoint", "url", "--state-dir", str(state_dir))
    assert gone.returncode == 1 and "no local endpoint runs" in gone.stderr


def test_up_with_a_manifest_it_cannot_run_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    state_dir = tmp_path / "local-endpoint"
    up = cli(
        "local-endpoint", "up", "--state-dir", str(state_dir), input="apiVersion: v1\nkind: List\nitems: []\n"
    )
    assert up.returncode == 1
    assert "expected one router Deployment, the release has 0" in up.stderr
    assert not (state_dir / STATE_FILE).exists()
