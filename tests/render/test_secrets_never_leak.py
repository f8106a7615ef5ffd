"""Secret values given to the chart appear in Secrets only: never in a ConfigMap, an argument, an env
value (only `secretKeyRef`), an annotation, the release notes or anything else Helm prints.

Every scenario is installed with `helm install --dry-run=client` (which prints the manifest and
NOTES.txt) with a distinct canary for the Hugging Face token, the engine API key and the router master
key, and each canary is searched for as written and base64-encoded everywhere outside a Secret's data.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from render_helpers import CHART, FIXTURES, NAMESPACE, RELEASE

pytestmark = pytest.mark.render

SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml")) + sorted(FIXTURES.glob("*.yaml"))
CANARIES = {
    "hfToken.value": "hf_canaryHuggingFaceToken0123456789",
    "engineApiKey.value": "sk-canary-engine-key-0123456789",
    "router.auth.masterKey.value": "sk-canary-master-key-0123456789",
}


def dry_run(helm: str, values: Path) -> tuple[list[dict[str, Any]], str]:
    sets: list[str] = []
    for key, canary in CANARIES.items():
        sets += ["--set", f"{key}={canary}"]
    # A value and an existingSecret (or an ExternalSecret) for the same key are refused, so the canary
    # replaces the reference.
    sets += ["--set", "hfToken.existingSecret=", "--set", "engineApiKey.existingSecret="]
    sets += ["--set", "externalSecrets.enabled=false"]
    sets += ["--set", "router.auth.masterKey.existingSecret=", "--set", "router.auth.enabled=true"]
    proc = subprocess.run(
        [helm, "install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client", "-f",
         str(values), *sets],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    manifest = proc.stdout.split("MANIFEST:", 1)[1].split("NOTES:", 1)
    objects = [d for d in yaml.safe_load_all(manifest[0]) if d]
    notes = manifest[1] if len(manifest) > 1 else ""
    return objects, proc.stdout.split("MANIFEST:", 1)[0] + notes


def needles() -> dict[str, str]:
    out = {}
    for key, canary in CANARIES.items():
        out[f"{key} as written"] = canary
        out[f"{key} base64-encoded"] = base64.b64encode(canary.encode()).decode()
    return out


@pytest.mark.parametrize("values", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_secret_values_stay_in_secrets(helm: str, values: Path) -> None:
    if yaml.safe_load(values.read_text()).get("router", {}).get("engine") == "vllm-router":
        pytest.skip("vllm-router takes neither client nor engine keys: the chart refuses both")
    objects, printed = dry_run(helm, values)
    secrets = [o for o in objects if o["kind"] == "Secret"]
    assert secrets, "the canaries were given as values, so the chart must render Secrets for them"
    found = []
    for o in objects:
        shown = dict(o)
        if o["kind"] == "Secret":
            shown = {k: v for k, v in o.items() if k not in ("data", "stringData")}
        text = yaml.safe_dump(shown)
        found += [
            f"{o['kind']}/{o['metadata']['name']}: {what}" for what, n in needles().items() if n in text
        ]
    found += [f"helm's printed notes/status: {what}" for what, n in needles().items() if n in printed]
    assert not found, "secret values outside Secrets:\n" + "\n".join(found)
    # Not vacuous: the canaries did reach the release (a disabled router takes no master key).
    in_secrets = yaml.safe_dump(secrets)
    assert any(base64.b64encode(c.encode()).decode() in in_secrets for c in CANARIES.values())
