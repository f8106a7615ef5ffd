# vllm-models: `just --list` for the project recipes, `just --list vllm` for deploying models.
# The README's test command is ./hack/test; `just test` runs it, `just test-<tier>` one tier.

set dotenv-load := false
set shell := ['bash', '-euo', 'pipefail', '-c']

mod vllm 'just/vllm.just'

venv := justfile_directory() / '.venv/bin'
export PATH := justfile_directory() / '.tools/bin' + ':' + venv + ':' + env('PATH')

[private]
default:
    @just --list

# Install the pinned tools and the Python environment (hack/bootstrap)
setup:
    ./hack/bootstrap

# Every test tier this machine can run (the README's test command)
test *args:
    ./hack/test "$@"

# Unit tier: schema, expansion, CLI, errors
test-unit *args:
    {{ venv }}/python -m pytest -m unit "$@"

# Render tier: helm template output, lint, Kubernetes OpenAPI validation
test-render *args:
    {{ venv }}/python -m pytest -m render "$@"

# End-to-end tier: the real router against simulated engines
test-e2e *args:
    {{ venv }}/python -m pytest -m e2e "$@"

# Engine tier: real vLLM (CPU build) serving a tiny model as the chart renders it
test-engine *args:
    {{ venv }}/python -m pytest -m engine "$@"

# Cluster tier: a control plane of its own (local kwok), or the cluster named with --kubeconfig
test-cluster *args:
    {{ venv }}/python -m pytest -m cluster "$@"

# Kind tier: the cluster tier plus a real request path on a kind cluster, simulator as engine (needs Docker)
test-kind *args: kind-up
    VLLM_EXTRA_VALUES=hack/kind/engine-sim-values.yaml {{ venv }}/python -m pytest -m "cluster or kind" \
      --kubeconfig "$PWD/.tools/kind/kubeconfig" "$@"

# ruff, mypy, helm lint, ct lint, yamllint
lint:
    {{ venv }}/ruff check
    {{ venv }}/ruff format --check
    {{ venv }}/mypy
    helm lint --strict charts/vllm-models
    ct lint --config ct.yaml --all
    {{ venv }}/yamllint -c hack/ct/lintconf.yaml models.example.yaml tests/fixtures/models/valid charts/vllm-models/ci

# Regenerate every derived file (hack/generate-*)
generate:
    for script in hack/generate-*; do echo "== $script"; "$script"; done

# Fail when a derived file is out of date (hack/generate-* --check)
verify:
    failed=0; for script in hack/generate-*; do echo "== $script --check"; "$script" --check || failed=1; done; exit $failed

# Start the local control plane with simulated GPU nodes (no Docker needed)
cluster-up:
    ./hack/cluster-up

# Stop the local control plane
cluster-down:
    ./hack/cluster-down

# Start a kind cluster (needs Docker)
kind-up:
    @docker info >/dev/null 2>&1 || { echo "kind-up: no Docker engine here; use 'just cluster-up' (no Docker needed)" >&2; exit 1; }
    ./hack/kind-up

# Delete the kind cluster
kind-down:
    @docker info >/dev/null 2>&1 || { echo "kind-down: no Docker engine here" >&2; exit 1; }
    ./hack/kind-down
