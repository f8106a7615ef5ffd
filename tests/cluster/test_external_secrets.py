"""The chart's ExternalSecrets in a real API server: External Secrets Operator's published CRDs (vendored
by hack/vendor-crds) installed into the cluster admit every field the chart renders, and
`just vllm::set-hf-token` finds the release's ExternalSecret there and names the Vault write instead of
writing the Secret that ESO owns.

No ESO controller runs here: what is proven is the API (admission, stored objects, what the recipe reads),
not a sync from Vault.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.conftest import installed_crds, kubectl
from tests.cluster.release import Release
from tests.support import REPO_ROOT, readme_external_secrets_example

pytestmark = pytest.mark.cluster

GROUP = "external-secrets.io"
CANARY = "hf_canaryNeverPrinted0123456789"


@pytest.fixture(scope="module")
def eso_crds(kubeconfig: str) -> Iterator[None]:
    """ExternalSecret and ClusterSecretStore from the vendored schemas."""
    with installed_crds(kubeconfig, [(GROUP, "ExternalSecret"), (GROUP, "ClusterSecretStore")]):
        yield


def kept(rendered: Any, stored: Any) -> bool:
    """Whether ``stored`` has every field of ``rendered`` with its value (defaulted fields aside)."""
    if isinstance(rendered, dict):
        return isinstance(stored, dict) and all(
            k in stored and kept(v, stored[k]) for k, v in rendered.items()
        )
    if isinstance(rendered, list):
        return isinstance(stored, list) and len(stored) == len(rendered) and all(map(kept, rendered, stored))
    return bool(rendered == stored)


def system_path_without_vault(directory: Path) -> str:
    """The system's commands, less a `vault` CLI should this machine have one: the recipe's other way."""
    directory.mkdir()
    for system in (Path("/usr/bin"), Path("/bin")):
        for command in system.iterdir():
            if command.name != "vault" and not (directory / command.name).exists():
                (directory / command.name).symlink_to(command)
    return str(directory)


def just(kubeconfig: str, namespace: str, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VLLM_", "VAULT_"))}
    env.update(KUBECONFIG=kubeconfig, VLLM_NAMESPACE=namespace, VLLM_HF_TOKEN=CANARY, PATH=path)
    return subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "just"), *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_external_secrets_are_admitted_and_set_hf_token_names_the_vault_write(
    eso_crds: None, release: Release, kubeconfig: str, tmp_path: Path
) -> None:
    example, store = readme_external_secrets_example()
    # The README's store under a name of this test's own: a cluster named with --kubeconfig may run ESO.
    store["metadata"]["name"] = f"{release.namespace}-vault"
    example["externalSecrets"]["secretStoreRef"]["name"] = store["metadata"]["name"]
    values = tmp_path / "vault-values.yaml"
    values.write_text(yaml.safe_dump(example))
    result = release.upgrade(
        [{"name": "tiny", "modelURL": "Qwen/Qwen2.5-0.5B-Instruct", "requestGPU": 0, "requestCPU": 1,
          "requestMemory": "1Gi", "pvcStorage": "1Gi"}],
        "-f", str(values), "--set", "router.auth.masterKey.value=", wait=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    manifest = release.helm("get", "manifest", release.name).stdout
    rendered = {
        o["metadata"]["name"]: o for o in yaml.safe_load_all(manifest) if o and o["kind"] == "ExternalSecret"
    }
    assert len(rendered) == 3
    stored = {o["metadata"]["name"]: o for o in release.objects(f"externalsecrets.{GROUP}")}
    # The API server prunes fields its schema does not know, silently (and adds its defaults): every
    # rendered field stored as rendered means it knew them all.
    assert stored.keys() == rendered.keys()
    for name, obj in rendered.items():
        assert kept(obj["spec"], stored[name]["spec"]), f"{name}: stored {stored[name]['spec']}"

    store_name = store["metadata"]["name"]
    kubectl(kubeconfig, "apply", "-f", "-", input=json.dumps(store))
    try:
        path = system_path_without_vault(tmp_path / "bin")
        said = just(kubeconfig, release.namespace, path, "vllm::set-hf-token")
    finally:
        kubectl(kubeconfig, "delete", f"clustersecretstores.{GROUP}", store_name, check=False)
    assert said.returncode != 0, "nothing could be written, so the recipe must not succeed"
    assert (
        said.stdout
        == "VAULT_ADDR=https://vault.example.com:8200 vault kv put -mount=secret vllm/hf-token token=-\n"
    )
    assert (
        "ExternalSecret vllm-models-hf-token fills Secret vllm-hf-token (key token) from ClusterSecretStore "
        f"{store_name}: field token of secret/vllm/hf-token in Vault https://vault.example.com:8200"
    ) in said.stderr
    assert "nothing was written" in said.stderr
    assert CANARY not in said.stdout + said.stderr
    secret = kubectl(kubeconfig, "-n", release.namespace, "get", "secret", "vllm-hf-token", check=False)
    assert secret.returncode != 0, "the Secret ESO owns was written"
