"""`just vllm::set-hf-token` and `set-api-key` never show a secret: not in their output, not on a command
line (where `ps` and audit logs see it); the value travels on standard input only, to kubectl or to vault.

The recipes run from a copy of the Justfile and just/ whose `.tools/bin` holds recording stand-ins for
kubectl and vault (the recipes put `.tools/bin` first on PATH); `.venv` is the real one, so the real
`vllm-models names` and `secret-destination` decide where each secret goes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from vllm_models.names import HF_TOKEN_ROLE, ROUTER_MASTER_KEY_ROLE

from tests.support import REPO_ROOT
from tests.unit.test_secret_destination import CRD, external_secret, listing, store

pytestmark = pytest.mark.unit

JUST = Path(sys.executable).with_name("just")
HF_TOKEN = "hf_canaryRecipeToken0123456789abcdef"
API_KEY = "sk-canary-recipe-master-key-0123456789"

# Answers `kubectl get` like a cluster where External Secrets Operator fills both Secrets from Vault when
# ESO is set, like a plain cluster otherwise; records every command line and every standard input.
KUBECTL = r"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
log = os.environ["RECORD_DIR"]
with open(f"{log}/argv", "a") as f:
    f.write("kubectl " + " ".join(args) + "\n")
if "-f" in args or any(a.endswith("/dev/stdin") for a in args):
    with open(f"{log}/stdin", "a") as f:
        f.write(sys.stdin.read() + "\n")
    if "--dry-run=client" in args:
        print("apiVersion: v1\nkind: Secret")
    sys.exit(0)
state = json.loads(os.environ["CLUSTER_STATE"])
if args[:1] == ["get"] and len(args) > 1:
    for kind, answer in state.items():
        if args[1].startswith(kind):
            print(json.dumps(answer))
            sys.exit(0)
    sys.exit(1)
sys.exit(0)
"""
VAULT = r"""#!/usr/bin/env python3
import os, sys
log = os.environ["RECORD_DIR"]
with open(f"{log}/argv", "a") as f:
    f.write("vault " + " ".join(sys.argv[1:]) + "\n")
with open(f"{log}/stdin", "a") as f:
    f.write(sys.stdin.read() + "\n")
"""


ESO_STATE = {
    "crd": CRD,
    "externalsecrets": listing(
        external_secret(HF_TOKEN_ROLE, "vllm/hf-token"),
        external_secret(
            ROUTER_MASTER_KEY_ROLE, "vllm/router", target="vllm-api-key", secret_key="master-key"
        ),
    ),
    "secretstores": listing(),
    "clustersecretstores": listing(store()),
}


@pytest.fixture
def recipes(tmp_path: Path) -> Path:
    """A checkout of the recipe layer with stand-in kubectl and vault."""
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy(REPO_ROOT / "Justfile", root)
    shutil.copytree(REPO_ROOT / "just", root / "just")
    (root / ".venv").symlink_to(REPO_ROOT / ".venv")
    tools = root / ".tools" / "bin"
    tools.mkdir(parents=True)
    for name, text in (("kubectl", KUBECTL), ("vault", VAULT)):
        (tools / name).write_text(text)
        (tools / name).chmod(0o755)
    return root


@pytest.mark.parametrize("cluster", ["plain", "vault"])
@pytest.mark.parametrize(("recipe", "variable", "value"), [
    ("set-hf-token", "VLLM_HF_TOKEN", HF_TOKEN),
    ("set-api-key", "VLLM_API_KEY", API_KEY),
])  # fmt: skip
def test_a_stored_secret_travels_on_stdin_only(
    recipes: Path, tmp_path: Path, cluster: str, recipe: str, variable: str, value: str
) -> None:
    if not JUST.exists():
        pytest.fail(f"{JUST} missing: install the dev extras (rust-just)")
    record = tmp_path / "record"
    record.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VLLM_", "VAULT_", "KUBECONFIG"))}
    env |= {
        variable: value,
        "RECORD_DIR": str(record),
        "CLUSTER_STATE": json.dumps(ESO_STATE if cluster == "vault" else {}),
    }
    result = subprocess.run(
        [str(JUST), f"vllm::{recipe}"],
        cwd=recipes,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    command_lines = (record / "argv").read_text()
    assert ("vault kv" in command_lines) == (cluster == "vault"), command_lines
    assert value not in result.stdout + result.stderr, "the secret was printed"
    assert value not in command_lines, "the secret was on a command line"
    assert value in (record / "stdin").read_text(), "the secret never reached kubectl or vault"
