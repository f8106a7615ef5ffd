#!/usr/bin/env bash
# The logic behind `just vllm::<recipe>` (just/vllm.just keeps each recipe to one line).
# Usage: just/vllm.sh <command> [args...]. Honours the predecessor's environment variables:
# VLLM_NAMESPACE, VLLM_RELEASE, VLLM_HELM_TIMEOUT, VLLM_MODELS_FILE, VLLM_VALUES_FILE (the generated
# values, default values.generated.yaml), VLLM_HF_TOKEN, VLLM_API_KEY
# and, through `vllm-models generate`, VLLM_MODEL_IMAGE/TAG, VLLM_STORAGE_CLASS, VLLM_ROUTER_*.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/.tools/bin:$ROOT/.venv/bin:$PATH"
NS="${VLLM_NAMESPACE:-vllm}"
RELEASE="${VLLM_RELEASE:-vllm-models}"
TIMEOUT="${VLLM_HELM_TIMEOUT:-30m}"
MODELS="${VLLM_MODELS_FILE:-$ROOT/models.yaml}"
VALUES="${VLLM_VALUES_FILE:-$ROOT/values.generated.yaml}"
CHART="$ROOT/charts/vllm-models"

LOCAL_KUBECONFIG="$ROOT/.tools/cluster/kubeconfig"
LOCAL_ENDPOINT="$ROOT/.tools/cluster/local-endpoint"

die() { echo "vllm: $*" >&2; exit 1; }

command -v vllm-models >/dev/null || die "the vllm-models CLI is missing: run ./hack/bootstrap"
# The Secret names and keys the values reference and the label selectors of the release, from the CLI
# (vllm_models/names.py); these recipes own the Secrets' content.
eval "$(vllm-models names --release "$RELEASE")"

use_cluster() {
  # $KUBECONFIG (or ~/.kube/config) when its cluster answers, else the local control plane.
  command -v kubectl >/dev/null || die "kubectl not found: run 'just setup'"
  if kubectl version --request-timeout=5s >/dev/null 2>&1; then return; fi
  if [ -f "$LOCAL_KUBECONFIG" ]; then
    export KUBECONFIG="$LOCAL_KUBECONFIG"
    kubectl version --request-timeout=5s >/dev/null 2>&1 && return
  fi
  die "no Kubernetes cluster answers (KUBECONFIG=${KUBECONFIG:-~/.kube/config}); start one with 'just cluster-up'"
}

# The local control plane of hack/cluster-up: its nodes are simulated, so the release is served on loopback
# by the local endpoint (the real router, simulated engines). Any other cluster serves for real.
on_local_cluster() {
  [ -n "${KUBECONFIG:-}" ] && [ "$(readlink -f "$KUBECONFIG")" = "$(readlink -f "$LOCAL_KUBECONFIG")" ]
}

local_endpoint_up() {
  echo "vllm: local control plane: serving the release on loopback (real router, simulated engines)" >&2
  { helm get manifest "$RELEASE" -n "$NS"; echo ---; kubectl get secrets -n "$NS" -o yaml; } \
    | vllm-models local-endpoint up --state-dir "$LOCAL_ENDPOINT"
  echo "vllm: stop it with 'just vllm::down' (also stops the local control plane)" >&2
}

ensure_models() { vllm-models init -f "$MODELS" --example "$ROOT/models.example.yaml"; }

ensure_namespace() {
  kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

secret_exists() { kubectl get secret "$1" -n "$NS" >/dev/null 2>&1; }

# apply_secret NAME KEY: the value comes on stdin, never on a command line or in a log.
apply_secret() {
  ensure_namespace
  kubectl create secret generic "$1" -n "$NS" --from-file="$2=/dev/stdin" --dry-run=client -o yaml \
    | kubectl apply -f - >/dev/null
  echo "vllm: Secret $1 (key $2) set in namespace $NS" >&2
}

read_value() {  # read_value ENV_VAR PROMPT: the env var's value, else a hidden prompt
  local value="${!1:-}"
  if [ -z "$value" ]; then
    [ -t 0 ] || die "set $1 or run interactively"
    read -r -s -p "$2: " value; echo >&2
  fi
  [ -n "$value" ] || die "empty value"
  printf '%s' "$value"
}

# secret_destination ROLE (hf-token, router-master-key): where the release's secret is stored, decided by
# `vllm-models secret-destination` from what kubectl can read here. Sets SECRET_DESTINATION (kubernetes,
# vault, print, unknown-store), SECRET_NAME, SECRET_KEY, SECRET_REASON, EXTERNAL_SECRET, VAULT_WRITE_ADDR,
# VAULT_WRITE_NAMESPACE, VAULT_COMMAND and the array VAULT_ARGS.
secret_destination() {
  local state plan
  state=$(
    kubectl get crd externalsecrets.external-secrets.io -o json 2>/dev/null || echo '{}'
    kubectl get externalsecrets.external-secrets.io -n "$NS" -l "$INSTANCE_SELECTOR" -o json 2>/dev/null || echo '{}'
    kubectl get secretstores.external-secrets.io -n "$NS" -o json 2>/dev/null || echo '{}'
    kubectl get clustersecretstores.external-secrets.io -o json 2>/dev/null || echo '{}'
  )
  plan=$(vllm-models secret-destination "$1" --release "$RELEASE" --vault-cli "$(command -v vault || true)" <<<"$state") ||
    die "could not decide where the $1 goes (above)"
  eval "$plan"
}

# store_secret ROLE ENV_VAR PROMPT: the value (ENV_VAR, else a hidden prompt) into the Secret the chart
# reads, or, when External Secrets Operator fills that Secret, into Vault, then ESO is asked to refresh.
# The value is read only once it can be written, and only ever travels on standard input.
store_secret() {
  secret_destination "$1"
  echo "vllm: $SECRET_REASON" >&2
  local value
  case "$SECRET_DESTINATION" in
    kubernetes)
      value=$(read_value "$2" "$3")
      printf '%s' "$value" | apply_secret "$SECRET_NAME" "$SECRET_KEY"
      ;;
    vault)
      value=$(read_value "$2" "$3")
      local env=(VAULT_ADDR="$VAULT_WRITE_ADDR")
      [ -z "$VAULT_WRITE_NAMESPACE" ] || env+=(VAULT_NAMESPACE="$VAULT_WRITE_NAMESPACE")
      printf '%s' "$value" | env "${env[@]}" vault "${VAULT_ARGS[@]}" >&2 ||
        die "vault could not write it (above); nothing was changed. The command was: $VAULT_COMMAND"
      echo "vllm: written to Vault with: $VAULT_COMMAND" >&2
      if kubectl annotate externalsecret.external-secrets.io "$EXTERNAL_SECRET" -n "$NS" \
        "force-sync=$(date +%s)" --overwrite >/dev/null 2>&1; then
        echo "vllm: asked External Secrets Operator to refresh Secret $SECRET_NAME now (ExternalSecret $EXTERNAL_SECRET)" >&2
      else
        echo "vllm: could not annotate ExternalSecret $EXTERNAL_SECRET; Secret $SECRET_NAME follows within its refreshInterval" >&2
      fi
      ;;
    print)
      echo "vllm: no vault CLI here, so nothing was written. Where a logged-in vault CLI runs, write it with the" \
        "command below (it reads the value on standard input: paste it, then Ctrl-D), then refresh the Secret with" \
        "'kubectl annotate externalsecret $EXTERNAL_SECRET -n $NS force-sync=\$(date +%s) --overwrite':" >&2
      echo "$VAULT_COMMAND"
      exit 1
      ;;
    *) die "nothing was written" ;;
  esac
}

cmd_set_secret() {  # set-secret ROLE ENV_VAR PROMPT
  use_cluster
  store_secret "$@"
}

cmd_get_secret() {  # get-secret NAME KEY: prints the value (to the terminal that asked for it)
  use_cluster
  secret_exists "$1" || die "Secret $1 not found in namespace $NS"
  kubectl get secret "$1" -n "$NS" -o "jsonpath={.data.${2//./\\.}}" | base64 -d; echo
}

cmd_delete_secret() {
  use_cluster
  kubectl delete secret "$1" -n "$NS" --ignore-not-found
}

ensure_api_key() {
  # The router requires a key (auth on by default): VLLM_API_KEY, else the existing Secret, else a new one
  # (not while External Secrets Operator fills that Secret: the key then lives in the store).
  if [ -n "${VLLM_API_KEY:-}" ]; then
    store_secret router-master-key VLLM_API_KEY ""
  elif ! secret_exists "$ROUTER_MASTER_KEY_SECRET"; then
    secret_destination router-master-key
    if [ "$SECRET_DESTINATION" != kubernetes ]; then
      echo "vllm: $SECRET_REASON; it has not filled Secret $SECRET_NAME yet (kubectl describe externalsecret $EXTERNAL_SECRET -n $NS)" >&2
      return
    fi
    python3 -c 'import secrets; print("sk-" + secrets.token_urlsafe(32), end="")' | apply_secret "$ROUTER_MASTER_KEY_SECRET" "$ROUTER_MASTER_KEY_KEY"
    echo "vllm: generated a router API key; read it with 'just vllm::get-api-key'" >&2
  fi
}

# Before anything is applied: can some node hold every replica now? A cluster whose nodes or pods cannot
# be read is a warning, not a failure. VLLM_NO_CLUSTER_CHECK=1 (or `upgrade --no-cluster-check`) skips it.
check_placement() {
  if [ "${VLLM_NO_CLUSTER_CHECK:-0}" = 1 ]; then return; fi
  local state
  if ! state=$({ kubectl get nodes -o json && kubectl get pods -A -o json; } 2>/dev/null); then
    echo "vllm: warning: cannot read the cluster's nodes and pods; placement not checked" >&2
    return
  fi
  vllm-models placement -f "$MODELS" --release "$RELEASE" --namespace "$NS" <<<"$state" >&2 ||
    die "a model cannot be placed on this cluster now (above); nothing was applied. Fix models.yaml, free the nodes, or skip the check with VLLM_NO_CLUSTER_CHECK=1"
}

last_deployed_revision() {  # the revision serving now, or nothing before the first install
  helm history "$RELEASE" -n "$NS" -o json 2>/dev/null | python3 -c 'import json, sys
print(next((str(r["revision"]) for r in reversed(json.load(sys.stdin)) if r["status"] == "deployed"), ""))' || true
}

# A release that did not become ready: say per model why (read before the rollback deletes the new pods),
# then return to the revision that served before, which Helm's own --rollback-on-failure would do without
# the reasons. Weight caches are never touched (their PVCs outlive every revision).
roll_back_failed_upgrade() {
  echo "vllm: the release did not become ready within $TIMEOUT; not ready:" >&2
  { kubectl get pods -n "$NS" -l "$INSTANCE_SELECTOR" -o json; kubectl get events -n "$NS" -o json; } \
    | vllm-models not-ready | sed 's/^/vllm:   /' >&2 || true
  if [ -z "$1" ]; then
    echo "vllm: nothing served before this install, so nothing to roll back to; fix models.yaml and run upgrade again, or 'just vllm::uninstall'" >&2
    return
  fi
  if helm rollback "$RELEASE" "$1" -n "$NS" --wait --timeout "$TIMEOUT" >&2; then
    echo "vllm: rolled back to revision $1, which keeps serving; weight caches kept. Fix models.yaml and run upgrade again" >&2
  else
    echo "vllm: the rollback to revision $1 did not become ready either; see 'just vllm::status'" >&2
  fi
}

cmd_upgrade() {
  if [ "${1:-}" = --no-cluster-check ]; then VLLM_NO_CLUSTER_CHECK=1; fi
  ensure_models
  vllm-models validate --no-preflight -f "$MODELS"  # fast: schema and cross-field checks, before any cluster
  use_cluster
  check_placement
  ensure_namespace
  [ -z "${VLLM_HF_TOKEN:-}" ] || store_secret hf-token VLLM_HF_TOKEN ""
  ensure_api_key
  local flags=(--router-master-key-secret "$ROUTER_MASTER_KEY_SECRET")
  if secret_exists "$HF_TOKEN_SECRET"; then flags+=(--hf-token-secret "$HF_TOKEN_SECRET"); fi
  vllm-models generate -f "$MODELS" -o "$VALUES" "${flags[@]}"
  echo "vllm: helm upgrade --install $RELEASE (namespace $NS, timeout $TIMEOUT)" >&2
  # VLLM_EXTRA_VALUES: chart-wide settings the generator does not own (ingress, engine image for kind, ...).
  local extra=()
  if [ -n "${VLLM_EXTRA_VALUES:-}" ]; then extra=(--values "$VLLM_EXTRA_VALUES"); fi
  local previous; previous=$(last_deployed_revision)
  if ! helm upgrade --install "$RELEASE" "$CHART" --namespace "$NS" --create-namespace \
    --values "$VALUES" "${extra[@]}" --wait --timeout "$TIMEOUT"; then
    roll_back_failed_upgrade "$previous"
    exit 1
  fi
  if on_local_cluster; then local_endpoint_up; fi
}

cmd_install() {
  # install asks for the API key, as the predecessor's did; empty (or no terminal) keeps an existing one or generates one.
  if [ -z "${VLLM_API_KEY:-}" ] && [ -t 0 ]; then
    use_cluster
    if ! secret_exists "$ROUTER_MASTER_KEY_SECRET"; then
      read -r -s -p "Router API key (hidden; empty: generate one): " VLLM_API_KEY; echo >&2
      export VLLM_API_KEY
    fi
  fi
  cmd_upgrade
}

cmd_uninstall() {
  local delete_caches="${DELETE_CACHES:-0}"
  [ "${1:-}" != "--delete-caches" ] || delete_caches=1
  use_cluster
  if on_local_cluster; then vllm-models local-endpoint down --state-dir "$LOCAL_ENDPOINT" >&2; fi
  helm uninstall "$RELEASE" --namespace "$NS" --wait --ignore-not-found
  if [ "$delete_caches" = 1 ]; then
    kubectl delete pvc -n "$NS" -l "$INSTANCE_SELECTOR" --ignore-not-found
  else
    echo "vllm: weight caches kept (PVCs below); delete them with 'just vllm::uninstall --delete-caches'" >&2
    kubectl get pvc -n "$NS" -l "$INSTANCE_SELECTOR" 2>/dev/null || true
  fi
}

cmd_status() {
  use_cluster
  helm status "$RELEASE" -n "$NS" 2>/dev/null | sed -n '1,6p' || echo "release $RELEASE not installed in $NS"
  { kubectl get pods -n "$NS" -l "$INSTANCE_SELECTOR" -o json; kubectl get nodes -o json; } \
    | python3 "$ROOT/just/status.py"
  kubectl get pvc -n "$NS" -l "$INSTANCE_SELECTOR" 2>/dev/null || true
}

pick_model() {  # the model named by $1, else one chosen from models.yaml
  if [ -n "${1:-}" ]; then echo "$1"; return; fi
  ensure_models
  local names
  names=$(vllm-models list-models -f "$MODELS" -o json | python3 -c 'import json, sys
for m in json.load(sys.stdin)["models"]: print(m["name"])')
  [ -n "$names" ] || die "no models in $MODELS"
  if [ "$(wc -l <<<"$names")" = 1 ] || [ ! -t 0 ]; then head -1 <<<"$names"; return; fi
  PS3="model: "
  select name in $names; do [ -n "$name" ] && { echo "$name"; return; }; done
}

cmd_logs() {
  local model; model=$(pick_model "${1:-}")
  use_cluster
  kubectl logs -n "$NS" -l "$ENGINE_SELECTOR,$MODEL_LABEL=$model" --all-containers --prefix --tail=200 -f
}

router_service() {
  kubectl get svc -n "$NS" -l "$ROUTER_SELECTOR" -o name | head -1
}

cmd_router_logs() {
  use_cluster
  kubectl logs -n "$NS" -l "$ROUTER_SELECTOR" --all-containers --prefix --tail=200 -f
}

cmd_port_forward() {
  use_cluster
  if on_local_cluster; then
    echo "vllm: local control plane: the router already listens at $(vllm-models local-endpoint url --state-dir "$LOCAL_ENDPOINT")" >&2
    return
  fi
  local svc port; svc=$(router_service); [ -n "$svc" ] || die "no router Service in $NS (router disabled?)"
  port=$(kubectl get -n "$NS" "$svc" -o jsonpath='{.spec.ports[0].port}')
  echo "vllm: router at http://localhost:${VLLM_LOCAL_PORT:-8000}/v1 (Ctrl-C to stop)" >&2
  kubectl port-forward -n "$NS" "$svc" "${VLLM_LOCAL_PORT:-8000}:$port"
}

with_router() {  # with_router COMMAND...: runs COMMAND with ROUTER_URL and ROUTER_KEY set, forwarding meanwhile
  use_cluster
  ROUTER_KEY=$(kubectl get secret "$ROUTER_MASTER_KEY_SECRET" -n "$NS" -o "jsonpath={.data.$ROUTER_MASTER_KEY_KEY}" 2>/dev/null | base64 -d || true)
  export ROUTER_KEY
  if on_local_cluster; then
    ROUTER_URL=$(vllm-models local-endpoint url --state-dir "$LOCAL_ENDPOINT") ||
      die "the local endpoint is not running; start it with 'just vllm::upgrade'"
    export ROUTER_URL
    echo "vllm: local control plane: the real router at $ROUTER_URL, engines simulated" >&2
    "$@"
    return
  fi
  local svc port local_port
  svc=$(router_service); [ -n "$svc" ] || die "no router Service in $NS (router disabled?)"
  port=$(kubectl get -n "$NS" "$svc" -o jsonpath='{.spec.ports[0].port}')
  local_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  kubectl port-forward -n "$NS" "$svc" "$local_port:$port" >/dev/null 2>&1 &
  PORT_FORWARD_PID=$!
  trap 'kill "$PORT_FORWARD_PID" 2>/dev/null || true' EXIT INT TERM
  export ROUTER_URL="http://127.0.0.1:$local_port"
  "$@"
}

cmd_down() {
  # Only the local control plane is ever stopped; a real cluster's release is removed with uninstall.
  vllm-models local-endpoint down --state-dir "$LOCAL_ENDPOINT" >&2
  "$ROOT/hack/cluster-down"
}

cmd_verify() { with_router sh -c 'exec vllm-models verify -f "$0" "$@"' "$MODELS" "$@"; }

cmd_list_api_models() { with_router python3 "$ROOT/just/api.py" models; }

cmd_test_completions() {
  local model; model=$(pick_model "${1:-}")
  with_router python3 "$ROOT/just/api.py" chat "$model" "${2:-What is the capital of France?}"
}

command="${1:-}"; shift || true
case "$command" in
  install) cmd_install ;;
  upgrade) cmd_upgrade "$@" ;;
  uninstall) cmd_uninstall "$@" ;;
  status) cmd_status ;;
  logs) cmd_logs "$@" ;;
  router-logs) cmd_router_logs ;;
  port-forward) cmd_port_forward ;;
  down) cmd_down ;;
  list-api-models) cmd_list_api_models ;;
  verify) cmd_verify "$@" ;;
  test-completions) cmd_test_completions "$@" ;;
  set-hf-token) cmd_set_secret hf-token VLLM_HF_TOKEN "Hugging Face token (hidden)" ;;
  get-hf-token) cmd_get_secret "$HF_TOKEN_SECRET" "$HF_TOKEN_KEY" ;;
  delete-hf-token) cmd_delete_secret "$HF_TOKEN_SECRET" ;;
  set-api-key) cmd_set_secret router-master-key VLLM_API_KEY "Router API key (hidden)" ;;
  get-api-key) cmd_get_secret "$ROUTER_MASTER_KEY_SECRET" "$ROUTER_MASTER_KEY_KEY" ;;
  delete-api-key) cmd_delete_secret "$ROUTER_MASTER_KEY_SECRET" ;;
  ensure-models) ensure_models ;;
  *) die "unknown command '$command'" ;;
esac
