"""ExternalSecrets (`externalSecrets`): none by default; when on, one per secret, each valid for External
Secrets Operator's published schema (vendored with its version) and filling exactly the Secret and key
the workloads read, so enabling it changes nothing else."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from render_helpers import CHART, FIXTURES
from vllm_models import names

from tests.support import crd_errors, readme_external_secrets_example

pytestmark = pytest.mark.render

VAULT = FIXTURES / "external-secrets-vault.yaml"
ROLES = {names.HF_TOKEN_ROLE, names.ROUTER_MASTER_KEY_ROLE, names.ENGINE_API_KEY_ROLE}
MODELS = [{"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"}]


def secret_refs(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(Secret, key) of every secretKeyRef in the workloads' containers."""
    refs = set()
    for obj in objects:
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        pod = obj["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((ref["name"], ref["key"]))
    return refs


def filled(external_secrets: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (es["spec"]["target"]["name"], d["secretKey"]) for es in external_secrets for d in es["spec"]["data"]
    }


def values(**external: Any) -> dict[str, Any]:
    data = yaml.safe_load(VAULT.read_text(encoding="utf-8"))
    data["externalSecrets"].update(external)
    return data


def test_none_by_default(render) -> None:
    r = render(CHART / "ci" / "default-values.yaml")
    assert r.returncode == 0, r.stderr
    assert not r.of_kind("ExternalSecret")


def test_each_fills_exactly_the_secret_and_key_the_workloads_read(render) -> None:
    r = render(VAULT)
    assert r.returncode == 0, r.stderr
    external_secrets = r.of_kind("ExternalSecret")
    assert {es["metadata"]["labels"][names.SECRET_LABEL] for es in external_secrets} == ROLES
    assert (
        filled(external_secrets)
        == secret_refs(r.objects)
        == {
            (names.HF_TOKEN_SECRET, names.HF_TOKEN_KEY),
            (names.ROUTER_MASTER_KEY_SECRET, names.ROUTER_MASTER_KEY_KEY),
            ("vllm-models-engine-api-key", "api-key"),
        }
    )
    assert not r.of_kind("Secret"), "a Secret ESO fills must not also be rendered"
    hf = r.get("ExternalSecret", "vllm-models-hf-token")
    assert hf["metadata"]["labels"][names.INSTANCE_LABEL] == "vllm-models"
    assert hf["spec"] == {
        "refreshInterval": "15m",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault-backend"},
        "target": {"name": "vllm-hf-token", "creationPolicy": "Owner"},
        # no property given: the field is named like the Secret's key
        "data": [{"secretKey": "token", "remoteRef": {"key": "vllm/hf-token", "property": "token"}}],
    }
    router = r.get("ExternalSecret", "vllm-models-router-master-key")
    assert router["spec"]["data"][0]["remoteRef"] == {"key": "vllm/router", "property": "master-key"}


def test_every_one_passes_esos_published_schema(render) -> None:
    external_secrets = render(VAULT).of_kind("ExternalSecret")
    assert len(external_secrets) == 3
    for es in external_secrets:
        assert crd_errors(es) == [], es["metadata"]["name"]


def test_a_misspelt_field_fails_esos_schema(render) -> None:
    """The check above would be worthless if the vendored schema let a typo through."""
    es = copy.deepcopy(render(VAULT).get("ExternalSecret", "vllm-models-hf-token"))
    es["spec"]["data"][0]["remoteRef"]["propery"] = es["spec"]["data"][0]["remoteRef"].pop("property")
    assert crd_errors(es) == [
        "$.spec.data[0].remoteRef: Additional properties are not allowed ('propery' was unexpected)"
    ]


def test_enabling_it_adds_only_external_secrets_when_the_secrets_are_named(render) -> None:
    named = values()
    named["engineApiKey"] = {"existingSecret": "engine-key"}
    without = copy.deepcopy(named)
    without["externalSecrets"]["enabled"] = False
    on, off = render(named), render(without)
    assert on.returncode == 0 and off.returncode == 0, on.stderr + off.stderr
    assert [o for o in on.objects if o["kind"] != "ExternalSecret"] == off.objects
    assert len(on.of_kind("ExternalSecret")) == 3


def test_only_the_secrets_with_a_remote_key(render) -> None:
    r = render(values(routerMasterKey={"key": ""}, engineApiKey={"key": ""}))
    assert [es["metadata"]["name"] for es in r.of_kind("ExternalSecret")] == ["vllm-models-hf-token"]
    off = values(routerMasterKey={"key": "vllm/router"})
    off["router"]["auth"]["enabled"] = False
    roles = {es["metadata"]["labels"][names.SECRET_LABEL] for es in render(off).of_kind("ExternalSecret")}
    assert names.ROUTER_MASTER_KEY_ROLE not in roles, "nothing reads the master key with auth off"


def test_names_stay_within_63_with_the_longest_release(render) -> None:
    r = render(VAULT, release="r" * 53)
    assert r.returncode == 0, r.stderr
    for es in r.of_kind("ExternalSecret"):
        role = es["metadata"]["labels"][names.SECRET_LABEL]
        assert len(es["metadata"]["name"]) <= 63 and es["metadata"]["name"].endswith("-" + role)
    assert filled(r.of_kind("ExternalSecret")) == secret_refs(r.objects)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"secretStoreRef": {"name": ""}},
            "externalSecrets.enabled needs externalSecrets.secretStoreRef.name",
        ),
        (
            {"hfToken": {"key": ""}, "routerMasterKey": {"key": ""}, "engineApiKey": {"key": ""}},
            "externalSecrets.enabled but no secret to fill",
        ),
        ({"secretStoreRef": {"kind": "VaultStore"}}, "/externalSecrets/secretStoreRef/kind"),
        ({"refreshInterval": "hourly"}, "/externalSecrets/refreshInterval"),
        ({"hfToken": {"key": "vllm/hf-token", "field": "token"}}, "/externalSecrets/hfToken"),
    ],
    ids=["no-store", "nothing-to-fill", "unknown-store-kind", "not-a-duration", "unknown-key"],
)
def test_wrong_settings_fail_with_the_key_to_fix(render, change: dict[str, Any], message: str) -> None:
    data = values()
    for key, value in change.items():
        data["externalSecrets"][key] = (
            {**data["externalSecrets"][key], **value} if isinstance(value, dict) else value
        )
    r = render(data)
    assert r.returncode != 0 and message in r.stderr, r.stderr


def test_a_value_and_a_remote_key_for_one_secret_fail(render) -> None:
    data = values()
    data["hfToken"] = {"value": "hf_literal"}
    r = render(data)
    assert r.returncode != 0
    assert "set only one of hfToken.value and externalSecrets.hfToken.key" in r.stderr


def test_the_readmes_example_renders_and_its_store_passes_esos_schema(render) -> None:
    example, store = readme_external_secrets_example()
    assert store["kind"] == "ClusterSecretStore" and crd_errors(store) == []
    r = render({**example, "models": MODELS})
    assert r.returncode == 0, r.stderr
    assert {es["spec"]["secretStoreRef"]["name"] for es in r.of_kind("ExternalSecret")} == {
        store["metadata"]["name"]
    }
    assert filled(r.of_kind("ExternalSecret")) == secret_refs(r.objects)
