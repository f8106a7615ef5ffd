"""Where `just vllm::set-hf-token` and `set-api-key` store a secret: the Kubernetes Secret the chart reads,
or, when External Secrets Operator fills that Secret for the release, the store behind it. A Secret that
ESO owns is overwritten at its next refresh, so writing it directly would be undone silently.

Decided from what kubectl prints (the ExternalSecret CRD, the release's ExternalSecrets, the secret
stores) and from the `vault` CLI at hand; the recipes act on the decision. The secret value never passes
through here: a Vault write reads it on standard input (`field=-`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from .names import (
    HF_TOKEN_KEY,
    HF_TOKEN_ROLE,
    HF_TOKEN_SECRET,
    INSTANCE_LABEL,
    ROUTER_MASTER_KEY_KEY,
    ROUTER_MASTER_KEY_ROLE,
    ROUTER_MASTER_KEY_SECRET,
    SECRET_LABEL,
)

# The secrets the recipes own: role (the chart's `vllm-models.io/secret` label) -> Secret and key written
# when ESO does not fill it.
SECRETS = {
    HF_TOKEN_ROLE: (HF_TOKEN_SECRET, HF_TOKEN_KEY),
    ROUTER_MASTER_KEY_ROLE: (ROUTER_MASTER_KEY_SECRET, ROUTER_MASTER_KEY_KEY),
}

# kubernetes: write the Secret as without ESO. vault: run the `vault` CLI (value on stdin). print: no
# `vault` CLI here, so print the command that writes it and write nothing. unknown-store: ESO fills the
# Secret from a store that is not Vault or cannot be read; say what to write where, write nothing.
Kind = Literal["kubernetes", "vault", "print", "unknown-store"]


@dataclass(frozen=True)
class VaultWrite:
    """One field of a Vault KV secret, as `vault kv put|patch [-mount=M] PATH FIELD=-` writes it."""

    address: str
    namespace: str
    mount: str
    path: str
    field: str
    patch: bool

    def args(self) -> list[str]:
        """Arguments of the `vault` CLI; the value comes on standard input."""
        mount = [f"-mount={self.mount}"] if self.mount else []
        return ["kv", "patch" if self.patch else "put", *mount, self.path, f"{self.field}=-"]

    def command(self) -> str:
        """The command line a person runs (with the value typed or piped on standard input)."""
        env = [f"VAULT_ADDR={self.address}"] if self.address else []
        if self.namespace:
            env.append(f"VAULT_NAMESPACE={self.namespace}")
        return shlex.join([*env, "vault", *self.args()])


@dataclass(frozen=True)
class Destination:
    """Where one secret goes and why (``reason``, one line a person reads)."""

    kind: Kind
    secret: str
    key: str
    reason: str
    external_secret: str = ""
    vault: VaultWrite | None = None
    remote: dict[str, str] = field(default_factory=dict)

    def shell(self) -> str:
        """``NAME=value`` lines for ``eval`` in the recipes (``VAULT_ARGS`` is a bash array)."""
        values = {
            "SECRET_DESTINATION": self.kind,
            "SECRET_NAME": self.secret,
            "SECRET_KEY": self.key,
            "SECRET_REASON": self.reason,
            "EXTERNAL_SECRET": self.external_secret,
            "VAULT_WRITE_ADDR": self.vault.address if self.vault else "",
            "VAULT_WRITE_NAMESPACE": self.vault.namespace if self.vault else "",
            "VAULT_COMMAND": self.vault.command() if self.vault else "",
        }
        lines = [f"{k}={shlex.quote(v)}" for k, v in values.items()]
        args = self.vault.args() if self.vault else []
        lines.append(f"VAULT_ARGS=({' '.join(shlex.quote(a) for a in args)})")
        return "".join(line + "\n" for line in lines)


def _items(listing: dict[str, Any]) -> list[dict[str, Any]]:
    items = listing.get("items")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _release_external_secret(listing: dict[str, Any], release: str, role: str) -> dict[str, Any] | None:
    found = [
        es
        for es in _items(listing)
        if es.get("metadata", {}).get("labels", {}).get(INSTANCE_LABEL) == release
        and es["metadata"]["labels"].get(SECRET_LABEL) == role
    ]
    return min(found, key=lambda es: str(es["metadata"].get("name", ""))) if found else None


def _store(
    kind: str, name: str, stores: dict[str, Any], cluster_stores: dict[str, Any]
) -> dict[str, Any] | None:
    listing = cluster_stores if kind == "ClusterSecretStore" else stores
    return next((s for s in _items(listing) if s.get("metadata", {}).get("name") == name), None)


def vault_location(key: str, mount: str, version: str) -> tuple[str, str]:
    """(mount, path) of ESO's remote ``key`` in a Vault store with KV ``mount`` (``path`` of the store):
    the key is relative to the mount, and a key that repeats the mount (and, for KV v2, `data/`) means
    the same secret, as ESO reads it. Without a mount the key starts with it."""
    path = key.strip("/")
    mount = mount.strip("/")
    if mount and path.startswith(mount + "/"):
        path = path[len(mount) + 1 :]
        if version != "v1" and path.startswith("data/"):
            path = path[len("data/") :]
    return mount, path


def decide(
    role: str,
    release: str,
    crd: dict[str, Any],
    external_secrets: dict[str, Any],
    stores: dict[str, Any],
    cluster_stores: dict[str, Any],
    vault_cli: str = "",
    vault_addr: str = "",
) -> Destination:
    """Where the secret ``role`` of ``release`` goes, from what kubectl printed as JSON (``{}`` for what
    it could not read): the ExternalSecret CRD, the namespace's ExternalSecrets, its SecretStores and
    the ClusterSecretStores. ``vault_cli`` is the `vault` CLI found on PATH (empty: none);
    ``vault_addr`` the user's own `VAULT_ADDR`, which wins over the store's server (a store often names
    an in-cluster address that only ESO reaches)."""
    secret, key = SECRETS[role]
    if not crd and "items" not in external_secrets:
        reason = "no ExternalSecret CRD in the cluster (External Secrets Operator not installed)"
        return Destination("kubernetes", secret, key, reason)
    es = _release_external_secret(external_secrets, release, role)
    if es is None:
        reason = f"release {release} has no ExternalSecret for its {role}"
        return Destination("kubernetes", secret, key, reason)
    spec = es.get("spec", {})
    name = str(es["metadata"].get("name", ""))
    data = (spec.get("data") or [{}])[0]
    target = str(spec.get("target", {}).get("name") or name)
    secret_key = str(data.get("secretKey", key))
    remote = {k: str(v) for k, v in data.get("remoteRef", {}).items() if k in ("key", "property")}
    ref = spec.get("secretStoreRef", {})
    store_kind, store_name = str(ref.get("kind") or "SecretStore"), str(ref.get("name", ""))
    filled = f"ExternalSecret {name} fills Secret {target} (key {secret_key}) from {store_kind} {store_name}"
    where = f"remote key {remote.get('key', '')}, property {remote.get('property', '')}"

    def unknown(why: str) -> Destination:
        reason = f"{filled}, {why}: write {where} there"
        return Destination("unknown-store", target, secret_key, reason, name, remote=remote)

    store = _store(store_kind, store_name, stores, cluster_stores)
    if store is None:
        return unknown("which this account cannot read (or that does not exist)")
    provider = store.get("spec", {}).get("provider", {})
    vault = provider.get("vault")
    if not isinstance(vault, dict):
        return unknown(f"whose provider is {', '.join(sorted(provider)) or 'none'}, not Vault")
    version = str(vault.get("version") or "v2")
    mount, path = vault_location(remote.get("key", ""), str(vault.get("path") or ""), version)
    property_ = remote.get("property") or secret_key
    # `put` replaces every field of the secret: when the release reads another field of the same secret,
    # `patch` keeps it (KV v2 only; it needs the secret to exist, which that other field proves).
    shared = any(
        other.get("metadata", {}).get("name") != name
        and other.get("metadata", {}).get("labels", {}).get(INSTANCE_LABEL) == release
        and any(
            vault_location(str(d.get("remoteRef", {}).get("key", "")), mount, version)[1] == path
            for d in other.get("spec", {}).get("data") or []
        )
        for other in _items(external_secrets)
    )
    server = str(vault.get("server", ""))
    write = VaultWrite(
        address=vault_addr or server,
        namespace=str(vault.get("namespace") or ""),
        mount=mount,
        path=path,
        field=property_,
        patch=shared and version != "v1",
    )
    via = f"Vault {write.address}"
    if vault_addr and server != vault_addr:
        via += f" (your VAULT_ADDR; the store names {server})"
    reason = f"{filled}: field {property_} of {mount + '/' if mount else ''}{path} in {via}"
    kind: Kind = "vault" if vault_cli else "print"
    return Destination(kind, target, secret_key, reason, name, write, remote)
