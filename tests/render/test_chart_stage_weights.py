"""The rendered weight-staging script, run for real (huggingface_hub from the venv, hub unreachable).

The real hub's answer to a wrong id (RepositoryNotFoundError, 404) needs the network; here every
request is refused, which takes the same path: the hub's exception, named, and exit 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from render_helpers import CHART

pytestmark = pytest.mark.render

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def script(render) -> str:
    pytest.importorskip("huggingface_hub")
    r = render(CHART / "ci" / "default-values.yaml")
    assert r.returncode == 0, r.stderr
    (stage,) = r.workload("tiny")["spec"]["template"]["spec"]["initContainers"]
    assert stage["command"][:2] == ["python3", "-c"]
    return str(stage["command"][2])


def run(script: str, hf_home: Path, model: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    # a hub that refuses every connection: "no request was needed" becomes observable
    env.update(HF_HOME=str(hf_home), MODEL_ID=model, HF_ENDPOINT="http://127.0.0.1:9")
    # the chart points it at the container's /dev/termination-log; the host's must stay untouched
    env["TERMINATION_MESSAGE_PATH"] = str(hf_home / "termination-log")
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)


def fake_cache(hf_home: Path, model: str) -> None:
    repo = hf_home / "hub" / ("models--" + model.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    (repo / "snapshots" / COMMIT / "config.json").write_text("{}")


def test_unreachable_or_wrong_model_fails_with_the_hub_message(script: str, tmp_path: Path) -> None:
    proc = run(script, tmp_path, "openai/llama-3-3-70b")
    assert proc.returncode == 1
    assert "cannot stage openai/llama-3-3-70b@default:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_completed_cache_needs_no_hub(script: str, tmp_path: Path) -> None:
    fake_cache(tmp_path, "org/model")
    marker = tmp_path / "vllm-models-staged" / "org--model@default"
    marker.parent.mkdir()
    marker.write_text("done\n")
    proc = run(script, tmp_path, "org/model")
    assert proc.returncode == 0, proc.stderr
    assert "org/model@default already staged" in proc.stdout


def test_an_interrupted_cache_is_not_trusted(script: str, tmp_path: Path) -> None:
    """A snapshot folder without the completion marker may lack shards: download (resume) again."""
    fake_cache(tmp_path, "org/model")
    proc = run(script, tmp_path, "org/model")
    assert proc.returncode == 1
    assert "downloading org/model@default" in proc.stdout
