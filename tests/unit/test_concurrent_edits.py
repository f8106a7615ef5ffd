"""Edits of models.yaml at the same time lose no entry and no comment: add-model and remove-model hold an
edit lock from reading the file to writing it back, so concurrent runs take turns."""

from __future__ import annotations

import select
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import REPO_ROOT

pytestmark = pytest.mark.unit

CLI = REPO_ROOT / ".venv" / "bin" / "vllm-models"
START = """\
# Our models: keep this comment.
- name: keep-me  # and this one
  modelURL: Qwen/Qwen2.5-7B-Instruct
  requestGPU: 0
- name: remove-me
  modelURL: Qwen/Qwen2.5-7B-Instruct
  requestGPU: 0
"""


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CLI), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )


def test_racing_adds_and_a_remove_lose_nothing(tmp_path: Path) -> None:
    models = tmp_path / "models.yaml"
    models.write_text(START)
    racers = 6
    procs = [
        start(
            "add-model",
            "-f",
            str(models),
            "-y",
            "--name",
            f"racer-{i}",
            "--model-url",
            "Qwen/Qwen2.5-0.5B-Instruct",
            "--gpus",
            "0",
        )
        for i in range(racers)
    ]
    procs.append(start("remove-model", "-f", str(models), "-y", "remove-me"))
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    text = models.read_text()
    names = [m["name"] for m in yaml.safe_load(text)]
    assert sorted(names) == sorted(["keep-me", *(f"racer-{i}" for i in range(racers))])
    assert text.startswith("# Our models: keep this comment.\n- name: keep-me  # and this one\n")


def test_a_waiting_editor_says_so(tmp_path: Path) -> None:
    from vllm_models.atomic import edit_lock

    models = tmp_path / "models.yaml"
    models.write_text(START)
    with edit_lock(models):
        p = start("remove-model", "-f", str(models), "-y", "remove-me")
        # Held until the editor says it waits, however slowly a loaded machine starts it.
        assert p.stderr is not None
        readable, _, _ = select.select([p.stderr], [], [], 60)
        assert readable, "the editor said nothing within 60 s while the lock was held"
        first = p.stderr.readline()
        assert f"waiting for another edit of {models} to finish" in first
        assert p.poll() is None, "the editor must block behind the held lock"
        assert "remove-me" in models.read_text()
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, first + err
    assert "remove-me" not in models.read_text()
