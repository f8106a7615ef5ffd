"""Where `set-hf-token` / `set-api-key` store a secret: the Kubernetes Secret, or Vault when External
Secrets Operator fills that Secret for the release (decided from what kubectl prints)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from click.testing import CliRunner
from vllm_models.cli import cli
from vllm_models.names import (
    HF_TOKEN_ROLE,
    HF_TOKEN_SECRET,
    INSTANCE_LABEL,
    ROUTER_MASTER_KEY_ROLE,
    SECRET_LABEL,
)
from vllm_models.secret_destination import decide, vault_location

pytestmark = pytest.mark.unit

RELEASE = "vllm-models"
CRD = {"kind": "CustomResourceDefinition", "metadata": {"name": "externalsecrets.external-secrets.io"}}
VAULT = {"server": "http://vault.vault.svc:8200", "path": "secret", "version": "v2"}


def external_secret(
    role: str,
    key: str,
    *,
    release: str = RELEASE,
    target: str = HF_TOKEN_SECRET,
    secret_key: str = "token",
    prop: str = "token",
    store: tuple[str, str] = ("ClusterSecretStore", "vault"),
) -> dict[str, Any]:
    """An ExternalSecret as the chart renders it (templates/external-secrets/externalsecret.yaml)."""
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {
            "name": f"{release}-{role}",
            "labels": {INSTANCE_LABEL: release, SECRET_LABEL: role},
        },
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": store[0], "name": store[1]},
            "target": {"name": target, "creationPolicy": "Owner"},
            "data": [{"secretKey": secret_key, "remoteRef": {"key": key, "property": prop}}],
        },
    }


def store(name: str = "vault", kind: str = "ClusterSecretStore", **provider: Any) -> dict[str, Any]:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"provider": provider or {"vault": VAULT}},
    }


def listing(*items: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}


def test_without_the_crd_the_kubernetes_secret_is_written_as_before() -> None:
    d = decide(HF_TOKEN_ROLE, RELEASE, {}, {}, {}, {}, vault_cli="/usr/bin/vault")
    assert (d.kind, d.secret, d.key) == ("kubernetes", "vllm-hf-token", "token")
    assert "no ExternalSecret CRD" in d.reason


def test_crd_without_the_releases_external_secret_writes_the_kubernetes_secret() -> None:
    others = listing(
        external_secret(HF_TOKEN_ROLE, "other/hf", release="other-release"),
        external_secret(ROUTER_MASTER_KEY_ROLE, "vllm/router"),
    )
    d = decide(HF_TOKEN_ROLE, RELEASE, CRD, others, {}, listing(store()), vault_cli="/usr/bin/vault")
    assert (d.kind, d.secret) == ("kubernetes", "vllm-hf-token")
    assert d.reason == "release vllm-models has no ExternalSecret for its hf-token"


def test_eso_with_a_vault_store_and_the_vault_cli_writes_vault() -> None:
    es = listing(external_secret(HF_TOKEN_ROLE, "vllm/hf-token"))
    d = decide(HF_TOKEN_ROLE, RELEASE, CRD, es, {}, listing(store()), vault_cli="/usr/bin/vault")
    assert d.kind == "vault"
    assert (d.secret, d.key, d.external_secret) == ("vllm-hf-token", "token", "vllm-models-hf-token")
    assert d.vault is not None
    assert d.vault.args() == ["kv", "put", "-mount=secret", "vllm/hf-token", "token=-"]
    assert (
        d.vault.command()
        == "VAULT_ADDR=http://vault.vault.svc:8200 vault kv put -mount=secret vllm/hf-token token=-"
    )
    assert d.reason == (
        "ExternalSecret vllm-models-hf-token fills Secret vllm-hf-token (key token) from ClusterSecretStore "
        "vault: field token of secret/vllm/hf-token in Vault http://vault.vault.svc:8200"
    )


def test_without_a_vault_cli_the_command_is_printed_not_run() -> None:
    es = listing(external_secret(HF_TOKEN_ROLE, "vllm/hf-token"))
    d = decide(HF_TOKEN_ROLE, RELEASE, CRD, es, {}, listing(store()), vault_cli="")
    assert d.kind == "print"
    assert d.vault is not None and d.vault.command().endswith(
        "vault kv put -mount=secret vllm/hf-token token=-"
    )


def test_an_unreadable_crd_is_no_obstacle_when_the_external_secrets_can_be_listed() -> None:
    """A namespace-scoped account may not read CRDs; a listing of ExternalSecrets proves the CRD."""
    es = listing(external_secret(HF_TOKEN_ROLE, "vllm/hf-token"))
    assert decide(HF_TOKEN_ROLE, RELEASE, {}, es, {}, listing(store()), vault_cli="vault").kind == "vault"


def test_the_users_vault_addr_wins_over_an_in_cluster_server() -> None:
    es = listing(external_secret(HF_TOKEN_ROLE, "vllm/hf-token"))
    d = decide(
        HF_TOKEN_ROLE, RELEASE, CRD, es, {}, listing(store()), vault_cli="vault",
        vault_addr="https://vault.example.com",
    )  # fmt: skip
    assert d.vault is not None and d.vault.address == "https://vault.example.com"
    assert "your VAULT_ADDR; the store names http://vault.vault.svc:8200" in d.reason


def test_a_namespaced_secret_store_and_a_vault_namespace() -> None:
    es = listing(
        external_secret(ROUTER_MASTER_KEY_ROLE, "vllm/router", target="vllm-api-key",
                        secret_key="master-key", prop="key", store=("SecretStore", "team-vault"))
    )  # fmt: skip
    vault = {**VAULT, "namespace": "ml/platform"}
    stores = listing(store("team-vault", "SecretStore", vault=vault))
    d = decide(ROUTER_MASTER_KEY_ROLE, RELEASE, CRD, es, stores, {}, vault_cli="vault")
    assert (d.kind, d.secret, d.key) == ("vault", "vllm-api-key", "master-key")
    assert d.vault is not None
    assert d.vault.command() == (
        "VAULT_ADDR=http://vault.vault.svc:8200 VAULT_NAMESPACE=ml/platform "
        "vault kv put -mount=secret vllm/router key=-"
    )


@pytest.mark.parametrize(
    ("key", "mount", "version", "expected"),
    [
        ("vllm/hf-token", "secret", "v2", ("secret", "vllm/hf-token")),
        ("secret/vllm/hf-token", "secret", "v2", ("secret", "vllm/hf-token")),
        ("secret/data/vllm/hf-token", "secret", "v2", ("secret", "vllm/hf-token")),
        ("secret/data/vllm/hf-token", "secret", "v1", ("secret", "data/vllm/hf-token")),
        ("/vllm/hf-token", "/secret/", "v2", ("secret", "vllm/hf-token")),
        ("kv/vllm/hf-token", "", "v2", ("", "kv/vllm/hf-token")),
    ],
)
def test_remote_keys_map_to_the_secret_eso_reads(
    key: str, mount: str, version: str, expected: tuple[str, str]
) -> None:
    assert vault_location(key, mount, version) == expected


def test_a_store_without_a_mount_puts_the_whole_path() -> None:
    es = listing(external_secret(HF_TOKEN_ROLE, "kv/vllm/hf-token"))
    stores = listing(store(vault={"server": "https://vault.example.com"}))
    d = decide(HF_TOKEN_ROLE, RELEASE, CRD, es, {}, stores, vault_cli="vault")
    assert d.vault is not None and d.vault.args() == ["kv", "put", "kv/vllm/hf-token", "token=-"]


def test_a_secret_shared_with_another_of_the_releases_keys_is_patched_not_replaced() -> None:
    """`kv put` would drop the router key stored beside the token; `kv patch` keeps it."""
    es = listing(
        external_secret(HF_TOKEN_ROLE, "vllm/keys", prop="hf"),
        external_secret(ROUTER_MASTER_KEY_ROLE, "secret/vllm/keys", target="vllm-api-key",
                        secret_key="master-key", prop="router"),
    )  # fmt: skip
    d = decide(HF_TOKEN_ROLE, RELEASE, CRD, es, {}, listing(store()), vault_cli="vault")
    assert d.vault is not None and d.vault.args() == ["kv", "patch", "-mount=secret", "vllm/keys", "hf=-"]
    v1 = listing(store(vault={**VAULT, "version": "v1"}))
    d = decide(HF_TOKEN_ROLE, RELEASE, CRD, es, {}, v1, vault_cli="vault")
    assert d.vault is not None and d.vault.args()[:2] == ["kv", "put"]  # KV v1 has no patch


def test_an_unreadable_store_says_what_to_write_where_and_writes_nothing() -> None:
    es = listing(external_secret(HF_TOKEN_ROLE, "vllm/hf-token"))
    d = decide(HF_TOKEN_ROLE, RELEASE, CRD, es, {}, {}, vault_cli="vault")
    assert (d.kind, d.vault) == ("unknown-store", None)
    assert d.reason == (
        "ExternalSecret vllm-models-hf-token fills Secret vllm-hf-token (key token) from ClusterSecretStore "
        "vault, which this account cannot read (or that does not exist): write remote key vllm/hf-token, "
        "property token there"
    )


def test_a_store_that_is_not_vault_names_its_provider() -> None:
    es = listing(external_secret(HF_TOKEN_ROLE, "vllm-hf-token", store=("ClusterSecretStore", "aws")))
    stores = listing(store("aws", aws={"service": "SecretsManager", "region": "eu-west-1"}))
    d = decide(HF_TOKEN_ROLE, RELEASE, CRD, es, {}, stores, vault_cli="vault")
    assert d.kind == "unknown-store" and "whose provider is aws, not Vault" in d.reason


def run_cli(stdin: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, ["secret-destination", *args], input=stdin, env=env)


def test_cli_prints_assignments_a_shell_evaluates() -> None:
    state = "\n".join(
        json.dumps(doc)
        for doc in (CRD, listing(external_secret(HF_TOKEN_ROLE, "vllm/hf-token")), {}, listing(store()))
    )
    result = run_cli(state, "hf-token", "--vault-cli", "/usr/bin/vault", env={"VAULT_ADDR": ""})
    assert result.exit_code == 0, result.output
    shown = subprocess.run(
        ["bash", "-c", 'eval "$0"; printf "%s|" "$SECRET_DESTINATION" "$SECRET_NAME" "${VAULT_ARGS[@]}"',
         result.stdout],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert shown == "vault|vllm-hf-token|kv|put|-mount=secret|vllm/hf-token|token=-|"


def test_cli_refuses_what_is_not_kubectls_json() -> None:
    result = run_cli("{}\n{}\nnot json", "router-master-key")
    assert result.exit_code == 1
    assert (
        "stdin (kubectl get crd, externalsecrets, secretstores, clustersecretstores, as JSON)"
        in result.output
    )
    assert run_cli("{}", "engine-key").exit_code == 2
