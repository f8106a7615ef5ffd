# shellcheck shell=bash
# Pinned tool versions: the single place hack/bootstrap, hack/cluster-up and the tests read them from.
# Each tool is built with `go build` from the Go module proxy through a wrapper module in
# hack/tools/<tool>/ (go.mod + go.sum committed, so the dependency graph is frozen too).

# Kubernetes v1.36.3 (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl; one build):
#   kwok v0.8.0 defaults to Kubernetes 1.36 (consts.KubeVersion 1.36.1), 1.36 is a supported minor and .3
#   its newest patch on the proxy, kubernetes-validate 1.37.0 ships 1.36 schemas for the render tier,
#   and helm 3.22 (client-go 0.37) is within the supported skew of a 1.36 server.
KUBERNETES_VERSION=v1.36.3
KUBERNETES_MINOR=36
# Helm v3.22.0: newest Helm 3 release; built with ldflags so `helm version` says v3.22.0 and
# `helm template`/`helm lint` assume Kubernetes 1.36 (the cluster we test against), not Helm's default.
HELM_VERSION=v3.22.0
# chart-testing v3.14.0 (binary `ct`): newest release on the proxy; lints with our helm, yamllint, yamale.
CT_VERSION=v3.14.0
# helm-docs v1.14.2: newest release on the proxy; writes the chart README from values.yaml's `# --` comments.
HELM_DOCS_VERSION=v1.14.2
# kwok/kwokctl v0.8.0: newest release; its binary runtime runs the control plane without Docker.
KWOK_VERSION=v0.8.0
# etcd v3.6.10: what kwok v0.8.0 maps Kubernetes 1.36 to (pkg/kwokctl/components/etcd_version.go).
ETCD_VERSION=v3.6.10
# llm-d-inference-sim: optional. The module proxy here refuses it (403), and it needs libzmq (cgo);
# the e2e tier uses the project's simulator tests/sim instead.
LLMD_SIM_VERSION=v0.7.0

# Cache of built tools, shared by every clone: <cache>/tools/<tool>-<version>/bin/
VLLM_MODELS_CACHE="${VLLM_MODELS_CACHE:-${HOME}/.cache/vllm-models}"
