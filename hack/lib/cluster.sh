# shellcheck shell=bash
# Shared by hack/cluster-up and hack/cluster-down: where the local control plane lives and how kwokctl
# is pointed at the binaries in .tools/bin (so it never downloads anything).

# shellcheck source=hack/lib/versions.sh
. "${ROOT}/hack/lib/versions.sh"

BIN="${ROOT}/.tools/bin"
# The quickstart's cluster by default. The cluster tier starts its own under another name and directory
# (VLLM_CLUSTER_NAME, VLLM_CLUSTER_DIR), so tests never touch the user's cluster or release.
CLUSTER_DIR="${VLLM_CLUSTER_DIR:-${ROOT}/.tools/cluster}"
KUBECONFIG_PATH="${CLUSTER_DIR}/kubeconfig"
CLUSTER_NAME="${VLLM_CLUSTER_NAME:-vllm-models}"

# kwokctl keeps clusters, logs, certificates and etcd data under KWOK_WORKDIR.
export KWOK_WORKDIR="$CLUSTER_DIR"
export KWOK_KUBE_VERSION="$KUBERNETES_VERSION"
export KWOK_RUNTIME=binary

require_tools() {
  local b missing=()
  for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x "$BIN/$b" ]] || missing+=("$b")
  done
  if ((${#missing[@]})); then
    echo "cluster: missing ${missing[*]} in $BIN; run: hack/bootstrap --tools-only" >&2
    exit 1
  fi
  # kwokctl accepts local paths for every binary; resolved so its symlinks point into the tool cache.
  KWOK_ETCD_BINARY="$(readlink -f "$BIN/etcd")"
  KWOK_KUBE_APISERVER_BINARY="$(readlink -f "$BIN/kube-apiserver")"
  KWOK_KUBE_CONTROLLER_MANAGER_BINARY="$(readlink -f "$BIN/kube-controller-manager")"
  KWOK_KUBE_SCHEDULER_BINARY="$(readlink -f "$BIN/kube-scheduler")"
  KWOK_KUBECTL_BINARY="$(readlink -f "$BIN/kubectl")"
  KWOK_CONTROLLER_BINARY="$(readlink -f "$BIN/kwok")"
  export KWOK_ETCD_BINARY KWOK_KUBE_APISERVER_BINARY KWOK_KUBE_CONTROLLER_MANAGER_BINARY \
    KWOK_KUBE_SCHEDULER_BINARY KWOK_KUBECTL_BINARY KWOK_CONTROLLER_BINARY
  # kwokctl looks for kubectl on PATH first.
  export PATH="$BIN:$PATH"
}

kc() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

api_ready() {
  [[ -f "$KUBECONFIG_PATH" ]] && kc get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

# wait_api SECONDS
wait_api() {
  local deadline=$(($(date +%s) + $1))
  until api_ready; do
    (($(date +%s) < deadline)) || return 1
    sleep 1
  done
}

# Volumes of the pool are Retain: after their claim is deleted they stay Released (the data of a real
# volume would be kept). For the simulated pool, make them Available again.
recycle_released_volumes() {
  local pv
  for pv in $(kc get pv -l vllm-models.io/pv-pool=true \
    -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\n"}{end}'); do
    kc patch pv "$pv" --type=json -p='[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null || true
  done
}
