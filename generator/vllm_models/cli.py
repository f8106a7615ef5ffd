"""The ``vllm-models`` command line: parses options and calls the core; prints and exits, nothing else.

Exit status: 0 ok, 1 invalid input (each problem as ``FILE::$.path: message`` on stderr, and with ``-o json``
in the JSON document on stdout too), 2 usage error. Nothing is written when there is an error.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__, argocd, autoscaling, capacity, gateway, placement, readiness, secret_destination
from . import verify as verify_module
from .atomic import edit_lock, write_atomic
from .edit import add_model, remove_model
from .errors import (
    InvalidInput,
    Problem,
    UsageProblem,
    VllmModelsError,
    has_errors,
    json_document,
    problem_line,
)
from .expand import expand_models, served_name
from .listing import table
from .loader import json_documents, read_text
from .local import endpoint
from .local.manifest import LocalRunError, Release
from .lora import adapters
from .names import (
    HF_TOKEN_KEY,
    HF_TOKEN_SECRET,
    ROUTER_MASTER_KEY_KEY,
    ROUTER_MASTER_KEY_SECRET,
    shell_assignments,
)
from .prompts import collect_entry
from .quantity import QuantityError, parse_quantity
from .validate import capacity_problems, require_models, validate_file
from .values import ChartOptions, chart_values, render_values

EXAMPLE_NAME = "models.example.yaml"


class Quantity(click.ParamType):
    """A Kubernetes quantity option (``16Gi``, ``500m``, ``8``); plain integers stay integers."""

    name = "quantity"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            parse_quantity(value)
        except QuantityError as e:
            self.fail(str(e), param, ctx)
        return int(value) if isinstance(value, str) and value.isdigit() else value


QUANTITY = Quantity()


class QuantityText(Quantity):
    """A quantity kept as text, for chart-wide values (``100m``, ``256Mi``)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return str(super().convert(value, param, ctx))


QUANTITY_TEXT = QuantityText()

file_option = click.option(
    "-f",
    "--file",
    "models_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default="models.yaml",
    envvar="VLLM_MODELS_FILE",
    show_default=True,
    show_envvar=True,
    help="The models file.",
)


preflight_option = click.option(
    "--preflight/--no-preflight",
    default=True,
    envvar="VLLM_PREFLIGHT",
    show_envvar=True,
    help="Check that each model fits its GPUs, host RAM and cache (docs/preflight.md).",
)


provider_option = click.option(
    "--autoscaling-provider",
    type=click.Choice(autoscaling.PROVIDERS),
    envvar="VLLM_AUTOSCALING_PROVIDER",
    show_envvar=True,
    help="The chart's autoscaling.provider for models with autoscaling "
    f"(default {autoscaling.DEFAULT_PROVIDER}); only keda scales a model to zero.",
)


def output_option(human: str, what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``-o/--output``: ``human`` for people, or ``json``: one document for scripts (the `just` recipes read
    that, never the text) with every problem in it; the problem lines still go to stderr for people."""
    return click.option(
        "-o", "--output", type=click.Choice([human, "json"]), default=human, show_default=True,
        help=f"{human.capitalize()} for people, or {what} and every problem as JSON for scripts.",
    )  # fmt: skip


def _validated(
    models_file: Path, preflight: bool, output: str = "text", provider: str | None = None
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The valid models of a file and its capacity warnings (printed), or exit 1 with every problem."""
    display = str(models_file)
    try:
        models = validate_file(models_file, display, provider or autoscaling.DEFAULT_PROVIDER)
    except VllmModelsError as e:
        _fail(e, output)
    problems = capacity_problems(models, display) if preflight else []
    if has_errors(problems):
        _fail(InvalidInput(display, problems), output)
    _report(problems)
    return models, problems


def _report(problems: Iterable[Problem]) -> None:
    for problem in problems:
        click.echo(problem_line(problem), err=True)


def _fail(error: VllmModelsError, output: str = "text") -> NoReturn:
    if isinstance(error, InvalidInput):
        _report(error.problems)
        if output == "json":
            click.echo(json_document(error.file, error.problems), nl=False)
        sys.exit(1)
    raise click.UsageError(str(error))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="vllm-models")
def cli() -> None:
    """Validate models.yaml and expand it into values of the vllm-models Helm chart."""


@cli.command()
@file_option
@preflight_option
@provider_option
@output_option("text", "the model count")
def validate(models_file: Path, preflight: bool, autoscaling_provider: str | None, output: str) -> None:
    """Check models.yaml and report every problem.

    Schema, cross-field and capacity problems, all at once, as FILE::$.path: message.
    """
    models, warnings = _validated(models_file, preflight, output, autoscaling_provider)
    if output == "json":
        click.echo(json_document(str(models_file), warnings, model_count=len(models)), nl=False)
    else:
        click.echo(f"{models_file}: {len(models)} model(s), valid")


@cli.command()
@file_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (atomically) instead of stdout.",
)
@click.option(
    "--image-repository", envvar="VLLM_MODEL_IMAGE", show_envvar=True, help="Engine image repository."
)
@click.option("--image-tag", envvar="VLLM_MODEL_TAG", show_envvar=True, help="Engine image tag.")
@click.option(
    "--storage-class",
    envvar="VLLM_STORAGE_CLASS",
    show_envvar=True,
    help="StorageClass of weight caches that name none.",
)
@click.option(
    "--hf-token-secret",
    envvar="VLLM_HF_TOKEN_SECRET",
    show_envvar=True,
    help=f"Secret (key {HF_TOKEN_KEY!r}) with the Hugging Face token, e.g. {HF_TOKEN_SECRET}.",
)
@click.option(
    "--router-master-key-secret",
    envvar="VLLM_ROUTER_MASTER_KEY_SECRET",
    show_envvar=True,
    help=f"Secret (key {ROUTER_MASTER_KEY_KEY!r}) with the router's master key, the key clients present "
    f"to the router (not the engines' API key), e.g. {ROUTER_MASTER_KEY_SECRET}.",
)
@click.option(
    "--router-enabled/--no-router",
    "router_enabled",
    default=None,
    envvar="VLLM_ROUTER_ENABLED",
    show_envvar=True,
    help="Deploy the router.",
)
@click.option(
    "--router-auth/--no-router-auth",
    "router_auth",
    default=None,
    envvar="VLLM_ROUTER_AUTH",
    show_envvar=True,
    help="Require the API key at the router.",
)
@click.option(
    "--router-replicas",
    type=click.IntRange(min=0),
    envvar="VLLM_ROUTER_REPLICAS",
    show_envvar=True,
    help="Router replicas.",
)
@click.option(
    "--router-request-cpu",
    type=QUANTITY_TEXT,
    envvar="VLLM_ROUTER_REQUEST_CPU",
    show_envvar=True,
    help="Router CPU request.",
)
@click.option(
    "--router-request-memory",
    type=QUANTITY_TEXT,
    envvar="VLLM_ROUTER_REQUEST_MEMORY",
    show_envvar=True,
    help="Router memory request.",
)
@click.option(
    "--router-limit-memory",
    type=QUANTITY_TEXT,
    envvar="VLLM_ROUTER_LIMIT_MEMORY",
    show_envvar=True,
    help="Router memory limit.",
)
@provider_option
@click.option(
    "--prometheus-url",
    envvar="VLLM_PROMETHEUS_URL",
    show_envvar=True,
    help="autoscaling.prometheus.serverAddress: the Prometheus KEDA queries for autoscaled models.",
)
@preflight_option
def generate(models_file: Path, output: Path | None, preflight: bool, **chart: Any) -> None:
    """Print (or write) the chart values for models.yaml.

    Validates first; applies the schema's defaults and writes derived fields explicitly. Chart-wide
    settings come from the options or their environment variables.
    """
    options = ChartOptions(**chart)
    models, _ = _validated(models_file, preflight, provider=options.autoscaling_provider)
    try:
        require_models(models, str(models_file))
    except VllmModelsError as e:
        _fail(e)
    text = render_values(chart_values(models, options), models_file.name)
    _emit(output, text, f"{len(models)} model(s)")


def _editing(models_file: Path) -> contextlib.AbstractContextManager[None]:
    """The edit lock of the models file, held from reading it to writing it back."""
    return edit_lock(
        models_file, lambda: click.echo(f"waiting for another edit of {models_file} to finish ...", err=True)
    )


def _current_text(models_file: Path) -> tuple[str, bool]:
    """The models file's text; when absent, the example's (or nothing), and False."""
    if models_file.exists():
        return read_text(models_file, str(models_file)), True
    example = models_file.parent / EXAMPLE_NAME
    if example.is_file():
        return read_text(example, str(example)), False
    return "", False


@cli.command("init")
@file_option
@click.option(
    "--example",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=f"Start from this file (default: the {EXAMPLE_NAME} beside models.yaml, else an empty list).",
)
def init_command(models_file: Path, example: Path | None) -> None:
    """Create models.yaml from the example, unless it exists (then it is left as it is)."""
    with _editing(models_file):
        if models_file.exists():
            return
        try:
            text = read_text(example, str(example)) if example else _current_text(models_file)[0]
        except VllmModelsError as e:
            _fail(e)
        _write(models_file, text or "[]\n")
    source = example or (models_file.parent / EXAMPLE_NAME if text else None)
    click.echo(f"created {models_file}" + (f" from {source}" if source else ""), err=True)


@cli.command("names")
@click.option("--release", default="vllm-models", show_default=True, help="Helm release name.")
def names_command(release: str) -> None:
    """Print the Secret names and keys and the label selectors of a release as shell assignments.

    For `eval` in scripts (the `just` recipes), so they never restate them.
    """
    click.echo(shell_assignments(release), nl=False)


@cli.command("add-model")
@file_option
@click.option("--name", help="Model id in API requests and resource names (DNS label, <= 40 chars).")
@click.option("--model-url", help="Hugging Face repo id (org/name) or absolute local path.")
@click.option("--gpus", type=click.IntRange(min=0), help="GPUs per replica (requestGPU).")
@click.option("--cpu", type=QUANTITY, help="CPU cores per replica (requestCPU).")
@click.option("--memory", type=QUANTITY, help="Memory per replica (requestMemory), e.g. 16Gi.")
@click.option("--storage", type=QUANTITY, help="Weight cache size (pvcStorage), e.g. 50Gi.")
@click.option("--max-model-len", type=click.IntRange(min=1), help="vllmConfig.maxModelLen (context length).")
@click.option("--replicas", type=click.IntRange(min=0), help="replicaCount.")
@click.option("--served-model-name", help="servedModelName (defaults to --name).")
@click.option("--gpu-product", help="gpuProduct node label, e.g. NVIDIA-H100-80GB-HBM3.")
@click.option("--tensor-parallel-size", type=click.IntRange(min=1), help="vllmConfig.tensorParallelSize.")
@click.option("-y", "--yes", is_flag=True, help="Do not prompt: take flags as given and write.")
def add_model_command(models_file: Path, yes: bool, **fields: Any) -> None:
    """Add a model to models.yaml.

    Asks for what the flags do not give (unless --yes); keeps the file's comments; validates the
    result before writing. A missing models.yaml starts from models.example.yaml beside it.
    """
    with _editing(models_file):
        _add_model(models_file, yes, fields)


def _add_model(models_file: Path, yes: bool, fields: dict[str, Any]) -> None:
    try:
        text, existed = _current_text(models_file)
        entry = collect_entry(fields, interactive=not yes)
        result = add_model(text, entry, str(models_file))
    except VllmModelsError as e:
        _fail(e)
    if not yes:
        click.echo("\n" + result[len(text) :].lstrip("\n"), err=True)
        click.confirm(f"Add {entry['name']!r} to {models_file}?", default=True, abort=True, err=True)
    _write(models_file, result)
    created = "" if existed else f" (created from {EXAMPLE_NAME})" if text else " (created)"
    click.echo(f"added {entry['name']!r} to {models_file}{created}; apply with: just vllm::upgrade", err=True)


@cli.command("remove-model")
@file_option
@click.argument("name", required=False)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def remove_model_command(models_file: Path, name: str | None, yes: bool) -> None:
    """Remove a model from models.yaml.

    Asks which one when NAME is not given. Its weight cache stays in the cluster.
    """
    with _editing(models_file):
        _remove_model(models_file, name, yes)


def _remove_model(models_file: Path, name: str | None, yes: bool) -> None:
    try:
        text = read_text(models_file, str(models_file))
        if name is None:
            models = validate_file(models_file)
            names = [m["name"] for m in models]
            if not names:
                raise UsageProblem(f"no models in {models_file}")
            click.echo(table(models), err=True, nl=False)
            name = click.prompt("Model to remove", type=click.Choice(names), err=True)
        result = remove_model(text, str(name), str(models_file))
    except VllmModelsError as e:
        _fail(e)
    if not yes:
        click.confirm(f"Remove {name!r} from {models_file}?", default=True, abort=True, err=True)
    _write(models_file, result)
    click.echo(f"removed {name!r} from {models_file}; apply with: just vllm::upgrade", err=True)


@cli.command("list-models")
@file_option
@output_option("table", "every model's effective settings")
def list_models(models_file: Path, output: str) -> None:
    """Show the configured models.

    Name, model id, GPUs per replica, replicas, max length and weight cache (size and mode).
    """
    try:
        models = validate_file(models_file)
    except VllmModelsError as e:
        _fail(e, output)
    if output == "json":
        click.echo(json_document(str(models_file), [], models=expand_models(models)), nl=False)
    else:
        click.echo(table(models), nl=False)


@cli.command("preflight")
@file_option
@click.option(
    "--allow-network/--no-network",
    default=False,
    envvar="VLLM_PREFLIGHT_ALLOW_NETWORK",
    show_envvar=True,
    help="Read config.json from huggingface.co for models that models.yaml, the local Hugging Face cache "
    "and the bundled catalog do not describe (answers are cached).",
)
@click.option(
    "--hf-cache",
    type=click.Path(file_okay=False, path_type=Path),
    help="Hugging Face cache (HF_HOME or its hub/); default $HF_HUB_CACHE, $HF_HOME/hub, "
    "~/.cache/huggingface.",
)
@output_option("table", "every model's figures")
def preflight_command(models_file: Path, allow_network: bool, hf_cache: Path | None, output: str) -> None:
    """Show whether each model fits its GPUs, host RAM and weight cache.

    KV cache per token, memory left for it, largest context, concurrency, headroom and fixes
    (docs/preflight.md). Exit 1 when a model cannot start, unless its preflight.allowUnfit is true.
    """
    display = str(models_file)
    try:
        models = validate_file(models_file, display)
    except VllmModelsError as e:
        _fail(e, output)
    reports = capacity.preflight(models, source_file=display, allow_network=allow_network, hf_cache=hf_cache)
    if output == "json":
        # The table's details show info findings too; the document keeps them, scripts filter by severity.
        every = capacity.findings(reports, minimum="info")
        records = [capacity.report_record(r) for r in reports]
        click.echo(json_document(display, every, models=records), nl=False)
    else:
        click.echo(capacity.render_table(reports), nl=False)
    found = capacity.findings(reports)
    _report(found)
    if has_errors(found):
        sys.exit(1)


@cli.command("litellm-config")
@file_option
@click.option("--release", default="vllm-models", envvar="VLLM_RELEASE", show_envvar=True, show_default=True)
@click.option("--namespace", default="vllm", envvar="VLLM_NAMESPACE", show_envvar=True, show_default=True)
@click.option(
    "--chart", type=click.Path(file_okay=False, exists=True, path_type=Path), default=gateway.DEFAULT_CHART,
    show_default=True, help="The vllm-models chart to render the entries with.",
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (atomically)."
)
def litellm_config(models_file: Path, release: str, namespace: str, chart: Path, output: Path | None) -> None:
    """Write the `model_list` entries that register these models in a LiteLLM you already run.

    Each entry points at its model's Service, with `input_cost_per_token`/`output_cost_per_token` from
    `pricing` and engine keys only as `os.environ/` references, never values.
    """
    models, _ = _validated(models_file, preflight=False)
    try:
        require_models(models, str(models_file))
        values = chart_values(models, ChartOptions())
        text = gateway.render_model_list(
            gateway.rendered_model_list(values, release, namespace, chart), release, namespace
        )
    except VllmModelsError as e:
        _fail(e)
    _emit(output, text, f"{len(models)} model(s)")


@cli.command("verify")
@file_option
@click.option("--url", required=True, envvar="ROUTER_URL", show_envvar=True, help="The router's base URL.")
@click.option("--key", default="", envvar="ROUTER_KEY", show_envvar=True, help="The router's client key.")
@click.option("--requests", "requests_", type=click.IntRange(min=1), default=10, show_default=True,
              help="Load requests per model.")  # fmt: skip
@click.option("--concurrency", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--p95-limit", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Seconds; a model whose p95 end-to-end latency is above fails.")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds per request.")  # fmt: skip
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify_command(
    models_file: Path, url: str, key: str, requests_: int, concurrency: int, p95_limit: float, timeout: float,
    output: str,
) -> None:  # fmt: skip
    """Check a live deployment through its router, model by model.

    The router's health, every model and LoRA adapter of models.yaml in /v1/models, one chat
    completion per model, then a short load (REQUESTS streamed chats at CONCURRENCY) with p50/p95 time to
    first token and end-to-end latency. Exit 1 when anything fails or a p95 is over the limit.
    """
    models, _ = _validated(models_file, preflight=False)
    budget = verify_module.Budget(requests_, concurrency, timeout, p95_limit)
    # a LoRA adapter is a model of its own for clients: listed, and answered under its own name
    pairs: list[tuple[str, str]] = []
    for m in models:
        pairs.append((str(m["name"]), served_name(m)))
        pairs += [(str(a["name"]), str(a["name"])) for a in adapters(m)]
    report = verify_module.verify(url, key, pairs, budget)
    if output == "json":
        document = {
            "url": report.url, "ok": report.ok(budget), "health": report.health or "ok",
            "extra_models": report.extra_models, "models": [m.as_dict(budget) for m in report.models],
        }  # fmt: skip
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(f"router {url}: {report.health or 'healthy'}")
        for result in report.models:
            click.echo(result.line(budget))
        if report.extra_models:
            click.echo(f"listed by the router but not in {models_file}: {', '.join(report.extra_models)}")
    if not report.ok(budget):
        sys.exit(1)


@cli.command("argocd")
@click.option("--chart-repo", required=True, help="Git URL of the repository holding charts/vllm-models.")
@click.option(
    "--chart-revision", default="main", show_default=True, help="Branch, tag or commit of the chart."
)
@click.option("--values-repo", required=True, help="Git URL of the repository holding the values file.")
@click.option(
    "--values-revision", default="main", show_default=True, help="Branch, tag or commit of the values."
)
@click.option(
    "--values-file", default="values.generated.yaml", show_default=True,
    help="Path of the values (what `generate` writes) in the values repository; with --per-cluster or "
    "--per-namespace a Go template, e.g. clusters/{{.name}}.yaml or teams/{{.namespace}}.yaml.",
)  # fmt: skip
@click.option("--release", default="vllm-models", envvar="VLLM_RELEASE", show_envvar=True, show_default=True)
@click.option("--namespace", default="vllm", envvar="VLLM_NAMESPACE", show_envvar=True, show_default=True)
@click.option("--project", default="default", show_default=True, help="Argo CD project.")
@click.option("--argocd-namespace", default="argocd", show_default=True, help="Where Argo CD runs.")
@click.option(
    "--per-cluster", "cluster_labels", multiple=True, metavar="KEY=VALUE",
    help="Write an ApplicationSet: one release on every Argo CD cluster with these labels.",
)  # fmt: skip
@click.option(
    "--per-namespace", "namespaces", multiple=True, metavar="NAMESPACE",
    help="Write an ApplicationSet: one release in each of these namespaces.",
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (atomically)."
)
def argocd_command(
    chart_repo: str, chart_revision: str, values_repo: str, values_revision: str, values_file: str,
    release: str, namespace: str, project: str, argocd_namespace: str, cluster_labels: tuple[str, ...],
    namespaces: tuple[str, ...], output: Path | None,
) -> None:  # fmt: skip
    """Write the Argo CD Application (or ApplicationSet) that deploys the chart with values from git.

    The chart comes from its repository, the values from yours (`$values/...`, the multi-source form);
    the weight caches survive pruning and deleting the Application.
    """
    if cluster_labels and namespaces:
        raise click.UsageError("--per-cluster and --per-namespace exclude each other")
    malformed = [label for label in cluster_labels if "=" not in label]
    if malformed:
        raise click.BadParameter(f"expected KEY=VALUE, got {malformed[0]!r}", param_hint="--per-cluster")
    source = argocd.Source(chart_repo, chart_revision, values_repo, values_revision, values_file)
    target = argocd.Target(release, namespace, project, argocd_namespace)
    if cluster_labels:
        obj = argocd.per_cluster(source, target, dict(label.split("=", 1) for label in cluster_labels))
    elif namespaces:
        obj = argocd.per_namespace(source, target, list(namespaces))
    else:
        obj = argocd.application(source, target)
    text = argocd.render(obj, "Generated by `vllm-models argocd`; apply to the cluster Argo CD runs in.")
    _emit(output, text, f"{obj['kind']} {obj['metadata']['name']}")


@cli.command("not-ready")
def not_ready_command() -> None:
    """Say, per model, why its pods are not ready: the scheduler's reason, an image or container error, or
    the pod's latest warning event.

    Reads `kubectl get pods -o json` (the release's pods) then `kubectl get events -o json` on stdin.
    """
    try:
        pods, events = json_documents(sys.stdin.read(), "stdin (kubectl get pods, then events, as JSON)")
    except VllmModelsError as e:
        _fail(e)
    for line in readiness.not_ready(pods, events):
        click.echo(str(line))


@cli.command("placement")
@file_option
@click.option("--release", default="vllm-models", envvar="VLLM_RELEASE", show_envvar=True, show_default=True)
@click.option("--namespace", default="vllm", envvar="VLLM_NAMESPACE", show_envvar=True, show_default=True)
def placement_command(models_file: Path, release: str, namespace: str) -> None:
    """Check that some node of the live cluster can hold every replica of each model, right now.

    An autoscaled model must fit with minReplicas (at least one); up to maxReplicas is a warning. Reads
    `kubectl get nodes -o json` then `kubectl get pods -A -o json` on stdin. Exit 1, with the reason per
    node, when a model cannot be placed: `helm upgrade --wait` would wait for it until its timeout.
    """
    display = str(models_file)
    try:
        models = validate_file(models_file, display)
        nodes, pods = json_documents(sys.stdin.read(), "stdin (kubectl get nodes, then pods, as JSON)")
    except VllmModelsError as e:
        _fail(e)
    cluster = placement.nodes_from(nodes, pods, (namespace, release), {m["name"] for m in models})
    verdicts = placement.check(models, cluster)
    for i, v in enumerate(verdicts):
        if v.all_fit and v.top_fits:
            click.echo(v.line())
        else:
            _report([Problem((i,), v.line(), "error" if not v.all_fit else "warning", display)])
    if not all(v.all_fit for v in verdicts):
        sys.exit(1)


@cli.command("secret-destination")
@click.argument("secret", type=click.Choice(sorted(secret_destination.SECRETS)))
@click.option("--release", default="vllm-models", envvar="VLLM_RELEASE", show_envvar=True, show_default=True)
@click.option("--vault-cli", default="", help="The `vault` CLI found on PATH; empty when there is none.")
@click.option("--vault-addr", default="", envvar="VAULT_ADDR", show_envvar=True,
              help="Your Vault address, when it differs from the store's (an in-cluster one).")  # fmt: skip
def secret_destination_command(secret: str, release: str, vault_cli: str, vault_addr: str) -> None:
    """Say where `set-hf-token` / `set-api-key` store SECRET, as shell assignments: the Kubernetes Secret,
    or the store behind the release's ExternalSecret for it (External Secrets Operator).

    Reads four JSON documents on stdin, `{}` for one kubectl could not read: `kubectl get crd
    externalsecrets.external-secrets.io`, the namespace's `externalsecrets`, its `secretstores`, and the
    `clustersecretstores`.
    """
    display = "stdin (kubectl get crd, externalsecrets, secretstores, clustersecretstores, as JSON)"
    try:
        crd, external_secrets, stores, cluster_stores = json_documents(sys.stdin.read(), display, count=4)
    except VllmModelsError as e:
        _fail(e)
    destination = secret_destination.decide(
        secret, release, crd, external_secrets, stores, cluster_stores, vault_cli, vault_addr
    )
    click.echo(destination.shell(), nl=False)


@cli.group("local-endpoint")
def local_endpoint() -> None:
    """The local control plane's endpoint: the installed router in front of simulated engines.

    Its nodes are simulated, so no engine really runs there; `just vllm::upgrade` starts this on loopback
    after installing to the local control plane. Nothing of it runs for a real cluster.
    """


@local_endpoint.command("up")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, envvar="VLLM_LOCAL_PORT",
    show_envvar=True, help="Router port on 127.0.0.1 (a free one when it is taken).",
)  # fmt: skip
def local_endpoint_up(state_dir: Path, port: int) -> None:
    """Serve the release read from stdin (`helm get manifest` plus its Secrets, as YAML)."""
    try:
        release = Release.parse(sys.stdin.read())
        state = endpoint.up(release, state_dir, Path(sys.executable).parent, port)
    except LocalRunError as e:
        click.echo(f"vllm-models: local endpoint: {e}", err=True)
        sys.exit(1)
    models = ", ".join(f"{m} (served as {s})" if m != s else m for m, s in state["models"].items())
    click.echo(f"{state['router']} (real) at {state['url']}, in front of simulated engines for: {models}")
    click.echo(f"logs: {state['logs']}")


@local_endpoint.command("down")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def local_endpoint_down(state_dir: Path) -> None:
    """Stop the local endpoint's router and simulated engines."""
    click.echo(f"stopped {endpoint.down(state_dir)} local endpoint process group(s)")


@local_endpoint.command("url")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def local_endpoint_url(state_dir: Path) -> None:
    """Print the local endpoint's URL; exit 1 when none runs."""
    if not endpoint.running(state_dir):
        click.echo(f"vllm-models: no local endpoint runs (state: {state_dir})", err=True)
        sys.exit(1)
    state = endpoint.read_state(state_dir)
    assert state is not None
    click.echo(state["url"])


def _emit(output: Path | None, text: str, summary: str) -> None:
    """`text` on stdout, or written atomically to `output` with a one-line summary on stderr."""
    if output is None:
        click.echo(text, nl=False)
        return
    _write(output, text)
    click.echo(f"wrote {output} ({summary})", err=True)


def _write(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as e:
        raise click.FileError(str(path), e.strerror or str(e)) from e


def main() -> None:
    """Console-script entry point: no traceback ever reaches the user."""
    try:
        cli.main(prog_name="vllm-models")
    except Exception as e:  # a bug: say so in one line, keep the exit status of a failure
        click.echo(f"vllm-models: internal error: {type(e).__name__}: {e} (please report it)", err=True)
        sys.exit(1)
