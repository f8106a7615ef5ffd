"""The rendered `stage-weights` script against a stand-in Hugging Face Hub on loopback (tests/hub_standin.py).

The script runs exactly as `helm template` renders it, with the env the chart gives the init container
(MODEL_ID, MODEL_REVISION) and the venv's pinned huggingface_hub; only HF_HOME (a tmp dir) and HF_ENDPOINT
(the stand-in) are the harness's. HF_HUB_DISABLE_XET is not set: the stand-in sends no Xet headers, so
huggingface_hub takes its plain HTTP path although hf_xet is installed (assert_served_paths checks that every
request went to an endpoint the stand-in serves).

The script writes its failure message to TERMINATION_MESSAGE_PATH, which the chart sets to the
container's /dev/termination-log; here it names a file in the test's tmp dir, so the host's /dev is left
alone and the termination message can be asserted.

Resuming, as the pinned huggingface_hub (1.16) does it: http_get reads the body with
`iter_bytes(chunk_size=DOWNLOAD_CHUNK_SIZE)` (10 MiB) and writes whole chunks only, so a download killed
before its first 10 MiB leaves an empty `.incomplete` blob and starts over; past that it resumes with
`Range: bytes=<bytes on disk>-` (whole 10 MiB chunks, unless the kill lands inside a chunk's write: the test
waits for the whole chunk). Both are asserted below.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from e2e_harness import CHART, helm_template

from tests.hub_standin import HubStandin, Recorded, commit_sha
from tests.support import wait_for

DOWNLOAD_CHUNK_SIZE: int = pytest.importorskip("huggingface_hub.constants").DOWNLOAD_CHUNK_SIZE

TINY = "org/tiny-model"
BIG = "org/big-model"  # one file past DOWNLOAD_CHUNK_SIZE: resumable
SMALL = "org/small-model"  # one LFS file of a few MB, below DOWNLOAD_CHUNK_SIZE: not resumable
MISSING = "org/no-such-model"
WEIGHTS = "model.safetensors"
TIMEOUT = 60  # seconds, for every subprocess

CONFIG_V1 = b'{"model_type": "gpt2", "n_layer": 1, "vocab_size": 8}\n'
CONFIG_V2 = b'{"model_type": "gpt2", "n_layer": 2, "vocab_size": 8}\n'
TINY_V1 = {"config.json": CONFIG_V1, WEIGHTS: b"weights v1"}
TINY_V2 = {"config.json": CONFIG_V2, WEIGHTS: b"weights v2", "generation_config.json": b"{}\n"}
TINY_OLD = commit_sha(TINY, TINY_V1)
TINY_MAIN = commit_sha(TINY, TINY_V2, parent=TINY_OLD)
_rng = random.Random(0)
BIG_FILES = {"config.json": CONFIG_V1, WEIGHTS: _rng.randbytes(DOWNLOAD_CHUNK_SIZE + 2 * 1024 * 1024)}
SMALL_FILES = {"config.json": CONFIG_V1, WEIGHTS: _rng.randbytes(3 * 1024 * 1024)}
REPOS = {
    TINY: {TINY_OLD: TINY_V1, TINY_MAIN: TINY_V2},
    BIG: {commit_sha(BIG, BIG_FILES): BIG_FILES},
    SMALL: {commit_sha(SMALL, SMALL_FILES): SMALL_FILES},
}
MAIN_FILES = {repo: list(commits.values())[-1] for repo, commits in REPOS.items()}
NO_SUCH_REVISION = "0" * 40

# The chart's models: name -> (modelURL, revision or None)
MODELS = {
    "tiny": (TINY, None),
    "pinned": (TINY, TINY_OLD),
    "big": (BIG, None),
    "small": (SMALL, None),
    "wrong-id": (MISSING, None),
    "wrong-rev": (TINY, NO_SUCH_REVISION),
}


@dataclass(frozen=True)
class Stage:
    """The rendered init container of one model: its script and the env the chart sets."""

    script: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def stages(helm: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stage]:
    values = tmp_path_factory.mktemp("stage-values") / "values.yaml"
    models = [
        {"name": name, "modelURL": url, **({"revision": rev} if rev else {})}
        for name, (url, rev) in MODELS.items()
    ]
    values.write_text(yaml.safe_dump({"models": models}), encoding="utf-8")
    release = helm_template(helm, [CHART / "ci" / "default-values.yaml", values])
    out = {}
    for name, workload in release.engine_workloads().items():
        (stage,) = workload["spec"]["template"]["spec"]["initContainers"]
        assert stage["name"] == "stage-weights"
        assert stage["command"][:2] == ["python3", "-c"]
        out[name] = Stage(str(stage["command"][2]), release.env(stage))
    assert set(out) == set(MODELS)
    assert out["pinned"].env["MODEL_REVISION"] == TINY_OLD
    assert "MODEL_REVISION" not in out["tiny"].env
    return out


@pytest.fixture(scope="module")
def hub() -> Iterator[HubStandin]:
    with HubStandin(REPOS) as h:
        yield h


def script_env(stage: Stage, hf_home: Path, hub: HubStandin, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(stage.env)
    if "LORA_ADAPTERS" in env:  # adapter links go into the cache volume: here the test's HF_HOME
        mount = stage.env["HF_HOME"]
        adapters = json.loads(env["LORA_ADAPTERS"])
        for a in adapters:
            assert a["path"].startswith(mount + "/"), a
            a["path"] = str(hf_home) + a["path"][len(mount) :]
        env["LORA_ADAPTERS"] = json.dumps(adapters)
    env.update(
        HF_HOME=str(hf_home),
        HF_ENDPOINT=hub.url,
        # the rendered /dev/termination-log is the container's; here a file of the test's own
        TERMINATION_MESSAGE_PATH=str(hf_home.parent / f"{hf_home.name}.termination-log"),
        **extra,
    )
    return env


def run(stage: Stage, hf_home: Path, hub: HubStandin) -> subprocess.CompletedProcess[str]:
    env = script_env(stage, hf_home, hub)
    return subprocess.run(
        [sys.executable, "-c", stage.script], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def repo_dir(hf_home: Path, repo: str) -> Path:
    return hf_home / "hub" / ("models--" + repo.replace("/", "--"))


def gets(requests: list[Recorded], filename: str) -> list[Recorded]:
    return [r for r in requests if r.method == "GET" and r.filename == filename]


def assert_served_paths(requests: list[Recorded]) -> None:
    """Only the endpoints the stand-in serves were asked for: no tree listing, no Xet token route."""
    for r in requests:
        assert r.path.startswith(("/api/models/", "/org/", "/cdn-lfs/")), r
        assert "xet" not in r.path, r
        assert r.status in (200, 206, 302), r


@pytest.fixture(scope="module")
def fresh(
    stages: dict[str, Stage], hub: HubStandin, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str], list[Recorded]]:
    """One staging of `tiny` into an empty cache, shared by the tests that read the result."""
    hf_home = tmp_path_factory.mktemp("fresh") / "hf"
    hub.clear()
    proc = run(stages["tiny"], hf_home, hub)
    return hf_home, proc, hub.requests


def test_fresh_cache_is_staged_for_an_offline_start(
    fresh: tuple[Path, subprocess.CompletedProcess[str], list[Recorded]],
    stages: dict[str, Stage],
    hub: HubStandin,
) -> None:
    hf_home, proc, requests = fresh
    assert proc.returncode == 0, proc.stderr
    snapshot = repo_dir(hf_home, TINY) / "snapshots" / TINY_MAIN
    assert f"staged {TINY}@default at {snapshot}" in proc.stdout
    assert {p.name: p.read_bytes() for p in snapshot.iterdir()} == TINY_V2
    assert (repo_dir(hf_home, TINY) / "refs" / "main").read_text() == TINY_MAIN
    marker = hf_home / "vllm-models-staged" / f"{TINY.replace('/', '--')}@default"
    assert marker.read_text() == f"{snapshot}\n"
    assert_served_paths(requests)
    # the script asks the hub first, then snapshot_download asks again and fetches each file by commit
    infos = [r.path for r in requests if r.path.startswith("/api/")]
    assert infos == [f"/api/models/{TINY}", f"/api/models/{TINY}/revision/main"]
    assert {r.filename for r in requests if r.method == "GET" and r.filename} == set(TINY_V2)
    assert all(f"/resolve/{TINY_MAIN}/" in r.path for r in requests if "/resolve/" in r.path)

    # what the engine does at start: offline, the default revision, from the cache alone
    hub.clear()
    env = script_env(stages["tiny"], hf_home, hub, HF_HUB_OFFLINE="1")
    offline = python(
        f"""
        from huggingface_hub import snapshot_download
        print(snapshot_download({TINY!r}, local_files_only=True))
        """,
        env,
    )
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.strip() == str(snapshot)
    # The engine tier goes further: real vLLM starts offline from what this script stages.
    assert hub.requests == []


def test_a_completed_cache_makes_no_request(
    fresh: tuple[Path, subprocess.CompletedProcess[str], list[Recorded]],
    stages: dict[str, Stage],
    hub: HubStandin,
) -> None:
    hf_home, first, _ = fresh
    assert first.returncode == 0, first.stderr
    hub.clear()
    proc = run(stages["tiny"], hf_home, hub)
    assert proc.returncode == 0, proc.stderr
    snapshot = repo_dir(hf_home, TINY) / "snapshots" / TINY_MAIN
    assert f"{TINY}@default already staged at {snapshot}" in proc.stdout
    assert hub.requests == []


def test_a_pinned_revision_stages_that_commit(
    stages: dict[str, Stage], hub: HubStandin, tmp_path: Path
) -> None:
    hf_home = tmp_path / "hf"
    hub.clear()
    proc = run(stages["pinned"], hf_home, hub)
    assert proc.returncode == 0, proc.stderr
    snapshot = repo_dir(hf_home, TINY) / "snapshots" / TINY_OLD
    assert f"staged {TINY}@{TINY_OLD} at {snapshot}" in proc.stdout
    # the older commit's files, not main's (main has a different config and one more file)
    assert {p.name: p.read_bytes() for p in snapshot.iterdir()} == TINY_V1
    assert [p.name for p in (repo_dir(hf_home, TINY) / "snapshots").iterdir()] == [TINY_OLD]
    # a commit id needs no ref: huggingface_hub writes refs/<revision> only for a branch or tag
    assert not (repo_dir(hf_home, TINY) / "refs").exists()
    requests = hub.requests
    assert_served_paths(requests)
    assert [r.path for r in requests if r.path.startswith("/api/")] == [
        f"/api/models/{TINY}/revision/{TINY_OLD}"
    ] * 2
    assert all(f"/resolve/{TINY_OLD}/" in r.path for r in requests if "/resolve/" in r.path)
    assert (hf_home / "vllm-models-staged" / f"{TINY.replace('/', '--')}@{TINY_OLD}").is_file()

    # the engine started with `--revision <commit>` finds it offline
    env = script_env(stages["pinned"], hf_home, hub, HF_HUB_OFFLINE="1")
    offline = python(
        f"""
        from huggingface_hub import snapshot_download
        print(snapshot_download({TINY!r}, revision={TINY_OLD!r}, local_files_only=True))
        """,
        env,
    )
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.strip() == str(snapshot)


def interrupt(stage: Stage, hf_home: Path, hub: HubStandin, *, served: int, written: int) -> tuple[int, int]:
    """Start the script and SIGKILL its process group once the stand-in has sent `served` bytes of the
    weights and the .incomplete blob holds `written` bytes; return (bytes sent, .incomplete size)."""
    data = MAIN_FILES[stage.env["MODEL_ID"]][WEIGHTS]
    # the weights' blob is named by its ETag, the sha256 of an LFS file (config.json may be in flight too)
    incomplete = (
        repo_dir(hf_home, stage.env["MODEL_ID"]) / "blobs" / f"{hashlib.sha256(data).hexdigest()}.incomplete"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", stage.script],
        env=script_env(stage, hf_home, hub),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def partial() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the script ended (exit {proc.returncode}) before it was killed")
            return (
                incomplete.exists() and hub.sent(WEIGHTS) >= served and incomplete.stat().st_size >= written
            )

        wait_for(partial, f"a partial download of {WEIGHTS}", timeout=30, interval=0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    sent = hub.sent(WEIGHTS)
    assert 0 < sent < len(data), "the kill was meant to land mid-file"
    assert incomplete.is_file(), "the killed download left no .incomplete blob"
    return sent, incomplete.stat().st_size


def test_an_interrupted_download_resumes(stages: dict[str, Stage], hub: HubStandin, tmp_path: Path) -> None:
    hf_home = tmp_path / "hf"
    data = BIG_FILES[WEIGHTS]
    blob_dir = repo_dir(hf_home, BIG) / "blobs"
    hub.clear()
    # the first 10 MiB + 512 KiB at once (one chunk reaches the .incomplete blob), the rest at 256 KiB/s
    hub.throttle(WEIGHTS, bytes_per_second=256 * 1024, burst=DOWNLOAD_CHUNK_SIZE + 512 * 1024)
    try:
        served, kept = interrupt(
            stages["big"], hf_home, hub, served=DOWNLOAD_CHUNK_SIZE, written=DOWNLOAD_CHUNK_SIZE
        )
    finally:
        hub.throttle(None)
    assert kept == DOWNLOAD_CHUNK_SIZE <= served  # one chunk; the rest is written only when the body ends
    assert not (hf_home / "vllm-models-staged").exists()

    hub.clear()
    proc = run(stages["big"], hf_home, hub)
    assert proc.returncode == 0, proc.stderr
    snapshot = repo_dir(hf_home, BIG) / "snapshots" / commit_sha(BIG, BIG_FILES)
    assert (snapshot / WEIGHTS).read_bytes() == data
    assert not list(blob_dir.glob("*.incomplete"))
    (get,) = gets(hub.requests, WEIGHTS)
    assert get.range == f"bytes={kept}-"
    assert (get.status, get.sent) == (206, len(data) - kept)


def test_an_interrupted_small_download_starts_over(
    stages: dict[str, Stage], hub: HubStandin, tmp_path: Path
) -> None:
    """Below DOWNLOAD_CHUNK_SIZE nothing reaches the .incomplete blob before the body ends: no resume."""
    hf_home = tmp_path / "hf"
    data = SMALL_FILES[WEIGHTS]
    hub.clear()
    hub.throttle(WEIGHTS, bytes_per_second=512 * 1024, burst=1024 * 1024)
    try:
        served, kept = interrupt(stages["small"], hf_home, hub, served=1024 * 1024, written=0)
    finally:
        hub.throttle(None)
    assert served >= 1024 * 1024
    assert kept == 0  # the bytes served were still in httpx's chunk buffer

    hub.clear()
    proc = run(stages["small"], hf_home, hub)
    assert proc.returncode == 0, proc.stderr
    snapshot = repo_dir(hf_home, SMALL) / "snapshots" / commit_sha(SMALL, SMALL_FILES)
    assert (snapshot / WEIGHTS).read_bytes() == data
    (get,) = gets(hub.requests, WEIGHTS)
    assert (get.range, get.status, get.sent) == (None, 200, len(data))


@pytest.mark.parametrize(
    ("model", "ref", "error"),
    [
        ("wrong-id", f"{MISSING}@default", "RepositoryNotFoundError"),
        ("wrong-rev", f"{TINY}@{NO_SUCH_REVISION}", "RevisionNotFoundError"),
    ],
    ids=["wrong-id", "wrong-revision"],
)
def test_a_wrong_model_fails_with_the_hub_error(
    stages: dict[str, Stage], hub: HubStandin, tmp_path: Path, model: str, ref: str, error: str
) -> None:
    hf_home = tmp_path / "hf"
    hub.clear()
    proc = run(stages[model], hf_home, hub)
    assert proc.returncode == 1
    assert f"cannot stage {ref}: {error}: 404 Client Error." in proc.stderr
    assert "Traceback" not in proc.stderr
    termination_log = tmp_path / "hf.termination-log"
    assert termination_log.read_text().startswith(f"cannot stage {ref}: {error}")
    assert not (hf_home / "vllm-models-staged").exists()
    # the script's own repo_info call fails: nothing else was asked for
    (only,) = hub.requests
    assert (only.method, only.status) == ("GET", 404)
    assert only.path.startswith(f"/api/models/{stages[model].env['MODEL_ID']}")


# --- LoRA adapters --------------------------------------------------------------------------------------


def adapter_stage(helm: str, tmp: Path, revision: str) -> Stage:
    """The stage-weights container of a model with two hub adapters, `sql` pinned to `revision`."""
    values = tmp / f"adapters-{revision}.yaml"
    adapters = [{"name": "sql", "source": TINY, "revision": revision}, {"name": "chat", "source": SMALL}]
    values.write_text(
        yaml.safe_dump({"models": [{"name": "base", "modelURL": BIG, "loraAdapters": adapters}]})
    )
    release = helm_template(helm, [CHART / "ci" / "default-values.yaml", values])
    (stage,) = release.engine_workloads()["base"]["spec"]["template"]["spec"]["initContainers"]
    return Stage(str(stage["command"][2]), release.env(stage))


def test_adapters_are_staged_at_their_revision_and_linked_where_the_engine_looks(
    helm: str, hub: HubStandin, tmp_path: Path
) -> None:
    hf_home = tmp_path / "hf"
    pinned = adapter_stage(helm, tmp_path, TINY_OLD)
    hub.clear()
    proc = run(pinned, hf_home, hub)
    assert proc.returncode == 0, proc.stderr
    links = hf_home / "vllm-models-lora"
    # a relative link into the cache, so it holds wherever the volume is mounted
    assert os.readlink(links / "sql") == f"../hub/models--org--tiny-model/snapshots/{TINY_OLD}"
    assert {p.name: p.read_bytes() for p in (links / "sql").iterdir()} == TINY_V1
    assert {p.name: p.read_bytes() for p in (links / "chat").iterdir()} == SMALL_FILES
    assert "adapter sql linked at" in proc.stdout and "adapter chat linked at" in proc.stdout
    assert (repo_dir(hf_home, BIG) / "snapshots" / commit_sha(BIG, BIG_FILES) / WEIGHTS).is_file()

    # staged before: no request to the hub, the links stay
    hub.clear()
    again = run(pinned, hf_home, hub)
    assert again.returncode == 0, again.stderr
    assert hub.requests == []
    assert f"{TINY}@{TINY_OLD} already staged" in again.stdout

    # a new revision: staged beside the old one, and the link moves to it
    hub.clear()
    moved = run(adapter_stage(helm, tmp_path, TINY_MAIN), hf_home, hub)
    assert moved.returncode == 0, moved.stderr
    assert os.readlink(links / "sql") == f"../hub/models--org--tiny-model/snapshots/{TINY_MAIN}"
    assert {p.name: p.read_bytes() for p in (links / "sql").iterdir()} == TINY_V2
    assert sorted(p.name for p in links.iterdir()) == ["chat", "sql"]  # no temporary link left behind


def test_a_wrong_adapter_fails_with_the_hub_error(helm: str, hub: HubStandin, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    adapters = [{"name": "missing", "source": MISSING}]
    values.write_text(
        yaml.safe_dump({"models": [{"name": "base", "modelURL": "/models/base", "loraAdapters": adapters}]})
    )
    release = helm_template(helm, [CHART / "ci" / "default-values.yaml", values])
    (stage,) = release.engine_workloads()["base"]["spec"]["template"]["spec"]["initContainers"]
    assert "MODEL_ID" not in release.env(stage)  # a local base model: only the adapter is staged
    hub.clear()
    proc = run(Stage(str(stage["command"][2]), release.env(stage)), tmp_path / "hf", hub)
    assert proc.returncode == 1
    assert f"cannot stage {MISSING}@default: RepositoryNotFoundError" in proc.stderr
    assert not (tmp_path / "hf" / "vllm-models-lora").exists()
