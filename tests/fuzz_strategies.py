"""Fuzzing shared by tests/unit/test_fuzz_models_yaml.py, tests/render/test_fuzz_chart_values.py and
bench/fuzz_bench.py: hypothesis strategies for hostile models.yaml documents and chart values, the
contract every document must end in, and the tally the test run and the bench report.

The contract: `validate` and `generate -o` (onto an existing file) exit 0 with values that pass the chart
schema and a complete output file, or exit 1 with every stderr line `FILE::$<path>: message` and the old
output intact; never another exit status, a traceback or a run longer than RUN_SECONDS of CPU time.
"""

from __future__ import annotations

import copy
import gc
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from vllm_models.cli import cli

from tests.support import REPO_ROOT

MODELS_SCHEMA: dict[str, Any] = json.loads((REPO_ROOT / "schemas" / "models.schema.json").read_text())
CHART = REPO_ROOT / "charts" / "vllm-models"
CHART_VALIDATOR = Draft202012Validator(json.loads((CHART / "values.schema.json").read_text()))
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "models"
SEED_DOCUMENTS = [*sorted((FIXTURES / "valid").glob("*.yaml")), REPO_ROOT / "models.example.yaml"]
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))

SEED = int(os.environ.get("VLLM_FUZZ_SEED", "20260"))
# Bounded so the fuzz of a normal test run stays well under a minute on two busy cores; the bench
# multiplies it (VLLM_FUZZ_SCALE).
SCALE = float(os.environ.get("VLLM_FUZZ_SCALE", "1"))
RUN_SECONDS = float(os.environ.get("VLLM_FUZZ_RUN_SECONDS", "5"))
SENTINEL = "# the values written before this run; a failed generate must leave them\n"

settings.register_profile(
    "fuzz",
    database=None,  # no .hypothesis/ directory in the repo; the seed reproduces a failure
    deadline=None,  # RUN_SECONDS bounds each CLI run instead, with a message naming the document
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
    # no shrinking: with helm in the loop it ran for minutes; the seed and the printed example reproduce
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def examples(bounded: int) -> settings:
    """The fuzz profile with `bounded` examples times SCALE."""
    return settings(settings.get_profile("fuzz"), max_examples=max(1, round(bounded * SCALE)))


@dataclass
class Tally:
    """What the fuzz tried: printed at the end of a test run (tests/conftest.py) and by the bench."""

    documents: int = 0
    rejected: int = 0
    accepted: int = 0
    tracebacks: int = 0
    max_seconds: float = 0.0
    renders: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"fuzz: seed {SEED}, {self.documents} documents, {self.rejected} rejected with a located "
            f"message, {self.accepted} accepted, {self.tracebacks} tracebacks, "
            f"max {self.max_seconds:.2f} CPU s per run, {self.renders} helm renders"
        )


TALLY = Tally()


# --- documents ---------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
ANY_VALUE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
UNICODE_NAMES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=45
)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    target = MODELS_SCHEMA
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}


def _number(schema: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    """Numbers at and around the bounds, where off-by-one rules break."""
    edges = [schema[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in schema]
    near = [e + d for e in edges for d in (-1, 0, 1)] or [0, 1]
    values = st.sampled_from([int(v) if integer else v for v in near])
    free = st.integers(-5, 100_000) if integer else st.floats(-2, 2, allow_nan=False)
    return values | free


def from_schema(schema: dict[str, Any], wild: bool = True) -> st.SearchStrategy[Any]:
    """Values shaped by a JSON schema: mostly what it asks for, near its bounds; with `wild`, now and
    then any value at all, a wrong enum member or an unknown key."""
    schema = _resolve(schema)
    strategy: st.SearchStrategy[Any]
    if "enum" in schema:
        strategy = st.sampled_from(schema["enum"])
        if wild:
            strategy |= st.text(max_size=12)
    elif "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        strategy = st.one_of([from_schema({**rest, **sub}, wild) for sub in schema["anyOf"]])
    else:
        kind = schema.get("type")
        kind = kind[0] if isinstance(kind, list) else kind
        if kind == "object":
            strategy = _object(schema, wild)
        elif kind == "array":
            strategy = st.lists(from_schema(schema.get("items", {}), wild), max_size=3)
        elif kind == "string" and "pattern" in schema:
            strategy = st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda s: len(s) <= schema.get("maxLength", 60)
            )
        elif kind == "string":
            # tame: printable text only, since the schema lets control characters into Secret names and
            # labels that helm then refuses (a schema gap the wild documents reach, left for its own fix)
            alphabet = st.characters() if wild else st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"))
            strategy = st.text(alphabet, min_size=schema.get("minLength", 0), max_size=20)
        elif kind in ("integer", "number"):
            strategy = _number(schema, kind == "integer")
        elif kind == "boolean":
            strategy = st.booleans()
        else:
            strategy = ANY_VALUE
    return st.one_of(strategy, ANY_VALUE) if wild and schema.get("type") != "object" else strategy


def _object(schema: dict[str, Any], wild: bool) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        extra = (
            from_schema(schema["additionalProperties"], wild)
            if isinstance(schema.get("additionalProperties"), dict)
            else ANY_VALUE
        )
        return st.dictionaries(st.text(max_size=10), extra, max_size=3)
    required = set(schema.get("required", ()))
    strategy = st.fixed_dictionaries(
        {k: from_schema(v, wild) for k, v in properties.items() if k in required},
        optional={k: from_schema(v, wild) for k, v in properties.items() if k not in required},
    )
    if wild:
        strategy = st.tuples(strategy, st.dictionaries(st.text(max_size=10), ANY_VALUE, max_size=1)).map(
            lambda pair: {**pair[1], **pair[0]}
        )
    return strategy


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


def schema_documents(wild: bool = True) -> st.SearchStrategy[bytes]:
    """models.yaml lists built from the schema."""
    return st.lists(from_schema(MODELS_SCHEMA["items"], wild), max_size=3).map(_dump)


@st.composite
def _mutated_data(draw: st.DrawFn, data: Any, opaque: frozenset[str] = frozenset()) -> Any:
    """`data` with one value somewhere in it dropped, duplicated, retyped, out of range or renamed; the
    values under `opaque` keys stay as they are."""
    data = copy.deepcopy(data)
    holders: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            holders.extend((node, k) for k in node)
            for k, v in node.items():
                if k not in opaque:
                    walk(v)
        elif isinstance(node, list):
            holders.extend((node, i) for i in range(len(node)))
            for v in node:
                walk(v)

    walk(data)
    if not holders:
        return draw(ANY_VALUE)
    holder, key = draw(st.sampled_from(holders))
    operation = draw(st.sampled_from(["drop", "duplicate", "retype", "range", "enum", "unicode"]))
    if operation == "drop":
        del holder[key]
    elif operation == "duplicate" and isinstance(holder, list):
        holder.insert(key, copy.deepcopy(holder[key]))
    elif operation == "duplicate":
        holder[f"{key}{draw(st.sampled_from(['', '_', 'X']))}"] = copy.deepcopy(holder[key])
    elif operation == "retype":
        holder[key] = draw(ANY_VALUE)
    elif operation == "range":
        holder[key] = draw(st.sampled_from([-1, 0, 2**31, 2**63, 10**30, -0.5, 1e308, math.inf, math.nan]))
    elif operation == "enum":
        holder[key] = draw(st.sampled_from(["", "ReadWriteSometimes", "bf16", "per_replica", "TRUE"]))
    else:
        holder[key] = draw(UNICODE_NAMES)
    return data


def _line_edit(text: str, line: int, edit: str) -> str:
    lines = text.splitlines(keepends=True) or ["\n"]
    line %= len(lines)
    if edit == "duplicate-line":
        lines.insert(line, lines[line])
    elif edit == "drop-line":
        del lines[line]
    elif edit == "tab-indent":
        lines[line] = lines[line].replace("  ", "\t", 1)
    else:  # crlf
        lines[line] = lines[line].rstrip("\n") + "\r\n"
    return "".join(lines)


@st.composite
def mutated_documents(draw: st.DrawFn) -> bytes:
    """The valid fixtures and models.example.yaml, mutated as data (then dumped) or as text (so duplicate
    keys, tabs and broken indentation reach the parser); a free-form Kubernetes structure (affinity, ...)
    only as a whole, since its inside is the API server's to check, not the generator's."""
    text = draw(st.sampled_from(SEED_DOCUMENTS)).read_text(encoding="utf-8")
    if draw(st.booleans()):
        data = yaml.safe_load(text)
        for _ in range(draw(st.integers(1, 3))):
            data = draw(_mutated_data(data, CHART_FREE_FORM))
        return _dump(data)
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.sampled_from(["duplicate-line", "drop-line", "tab-indent", "crlf"]))
        text = _line_edit(text, draw(st.integers(0, 10_000)), edit)
    return text.encode("utf-8")


def billion_laughs(levels: int, width: int) -> bytes:
    """Each anchor an alias list of the one before: width ** levels values from a few lines."""
    lines = ["    l0: &l0 [lol]"]
    lines += [f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return ("- name: laughs\n  modelURL: org/laughs\n  labels:\n" + "\n".join(lines) + "\n").encode()


def deep_nesting(depth: int, flow: bool) -> bytes:
    """`depth` nested lists; block style indents each level, so it stays shallow enough to be small."""
    if flow:
        return (
            "- name: deep\n  modelURL: org/deep\n  extraArgs: " + "[" * depth + "]" * depth + "\n"
        ).encode()
    depth = min(depth, 500)
    return "".join(f"{'  ' * i}- \n" for i in range(depth)).encode() + b"  " * depth + b"- x\n"


HUGE_FILLERS = {
    "comment": b"# " + b"x" * 78 + b"\n",
    "models": b"- name: m\n  modelURL: org/m\n",
    "scalar": b"  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
}


def huge_file(filler: str, megabytes: int) -> bytes:
    chunk = HUGE_FILLERS[filler]
    head = b"- name: huge\n  modelURL: org/huge\n  servedModelName: >\n" if filler == "scalar" else b""
    return head + chunk * (megabytes * 1024 * 1024 // len(chunk))


YAML_FEATURES = st.sampled_from(
    [
        # merge keys: an accepted idiom, and a merge of a non-mapping
        b"- &base\n  name: a\n  modelURL: org/a\n- <<: *base\n  name: b\n  servedModelName: b\n",
        b"- <<: [1, 2]\n  name: a\n  modelURL: org/a\n",
        b"- &m\n  name: a\n  modelURL: org/a\n- *m\n",
        b"- &r [*r]\n",
        b"- name: a\n  modelURL: org/a\n  labels: &l {a: *l}\n",
        b"- name: a\n  modelURL: *undefined\n",
        b"- name: a\n\tmodelURL: org/a\n",
        b"- name: a\n  modelURL: org/a\n  name: b\n",
        b"- {name: a, modelURL: org/a, name: a}\n",
        b"- ? [a, b]\n  : c\n",
        b"- name: a\n  modelURL: org/a\n  labels: {null: x, 1: y, true: z, 2001-01-01: d, 1.5: f}\n",
        b"- !!python/object:os.system {}\n",
        b"- name: !!binary aGVsbG8=\n  modelURL: org/a\n",
        b"%YAML 1.1\n---\n- name: a\n  modelURL: org/a\n",
        b"---\n- name: a\n  modelURL: org/a\n---\n- name: b\n",
        b"\xef\xbb\xbf- name: a\n  modelURL: org/a\n",
        b"- name: a\x00\n  modelURL: org/a\n",
        b'- name: "\\ud800"\n  modelURL: org/a\n',
    ]
)


def non_utf8(text: bytes) -> st.SearchStrategy[bytes]:
    return st.sampled_from(
        [
            text.decode("utf-8").encode("utf-16"),
            text.decode("utf-8").encode("latin-1", errors="replace") + b"\xe9\xff",
            b"\xff\xfe" + text,
            text[: len(text) // 2] + b"\xc3\x28" + text[len(text) // 2 :],
            text + b"\xed\xa0\x80",  # an encoded surrogate
        ]
    )


RANDOM_BYTES = st.binary(max_size=300) | st.text(max_size=200).map(lambda s: s.encode("utf-8"))


# --- the contract ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    accepted: bool
    stderr: str


def _located(stderr: str, file: Path) -> list[str]:
    """The stderr lines that are not `FILE::$<path>: message`."""
    prefix = f"{file}::$"
    return [
        line for line in stderr.splitlines() if not (line.startswith(prefix) and ": " in line[len(prefix) :])
    ]


def _check_run(kind: str, args: list[str], file: Path) -> Any:
    # CPU time: a loaded machine stalls a run for seconds of wall time, a hang burns CPU. This thread's
    # only, and with the collector paused: at bench scale the heap of earlier examples grows past a
    # gigabyte, and a full collection falling into one small document's run charged it 5 s.
    gc.disable()
    try:
        start = time.thread_time()
        result = CliRunner().invoke(cli, args)
        seconds = time.thread_time() - start
    finally:
        gc.enable()
    TALLY.max_seconds = max(TALLY.max_seconds, seconds)
    broken = (
        result.exit_code not in (0, 1)
        or (result.exception is not None and not isinstance(result.exception, SystemExit))
        or "Traceback" in result.output
    )
    if broken:
        TALLY.tracebacks += 1
        raise AssertionError(
            f"{kind}: {args[0]} exited {result.exit_code}: {result.exception!r}\n{result.output}"
        )
    assert seconds < RUN_SECONDS, f"{kind}: {args[0]} took {seconds:.1f} CPU s (bound {RUN_SECONDS})"
    if result.exit_code == 1:
        assert result.stdout == "", f"{kind}: {args[0]} failed but printed to stdout: {result.stdout[:500]}"
        assert result.stderr, f"{kind}: {args[0]} exited 1 saying nothing"
        stray = _located(result.stderr, file)
        assert not stray, f"{kind}: {args[0]} printed lines not located as FILE::$path: {stray[:5]}"
    return result


def check_document(content: bytes, workdir: Path, kind: str) -> Outcome:
    """Run `validate` and `generate -o` on one document and assert the contract; tally the result."""
    TALLY.documents += 1
    TALLY.kinds[kind] = TALLY.kinds.get(kind, 0) + 1
    models, out = workdir / "models.yaml", workdir / "values.yaml"
    models.write_bytes(content)
    out.write_text(SENTINEL)
    validate = _check_run(kind, ["validate", "-f", str(models), "--no-preflight"], models)
    # the master key Secret the recipes pass: without one the chart refuses to render the router; the
    # Prometheus an autoscaled model's KEDA trigger queries: without one the chart refuses the trigger
    generate_args = ["generate", "-f", str(models), "--no-preflight", "-o", str(out)]
    chart_wide = ["--router-master-key-secret", "vllm-api-key", "--prometheus-url", "http://prometheus:9090"]
    generate = _check_run(kind, [*generate_args, *chart_wide], models)
    leftovers = [p.name for p in workdir.iterdir() if p.name not in ("models.yaml", "values.yaml")]
    assert not leftovers, f"{kind}: generate left files behind: {leftovers}"
    if validate.exit_code == 1:
        assert generate.exit_code == 1, f"{kind}: validate refused what generate accepted"
    if generate.exit_code == 1:
        assert out.read_text() == SENTINEL, f"{kind}: a failed generate changed the output file"
        TALLY.rejected += 1
        return Outcome(False, validate.stderr + generate.stderr)
    values = yaml.safe_load(out.read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in CHART_VALIDATOR.iter_errors(values)]
    assert not errors, f"{kind}: generated values fail the chart schema: {errors[:5]}"
    TALLY.accepted += 1
    return Outcome(True, validate.stderr + generate.stderr)


# --- chart values ------------------------------------------------------------------------------------


def _free_form_keys(schema: Any, name: str | None = None) -> set[str]:
    """Keys whose chart schema is a bare object: Kubernetes structures (affinity, tolerations, ...) the
    chart passes through as given, for the API server to check."""
    if not isinstance(schema, dict):
        return set()
    found = set()
    if name and schema.get("type") == "object" and not {"properties", "additionalProperties"} & schema.keys():
        found.add(name)
    for key, sub in schema.get("properties", {}).items():
        found |= _free_form_keys(sub, key)
    for sub in schema.get("$defs", {}).values():
        found |= _free_form_keys(sub)
    for key in ("items", "additionalProperties"):
        found |= _free_form_keys(schema.get(key), name)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found |= _free_form_keys(sub, name)
    return found


CHART_FREE_FORM = frozenset(_free_form_keys(CHART_VALIDATOR.schema))


@st.composite
def mutated_chart_values(draw: st.DrawFn) -> dict[str, Any]:
    """A values file of charts/vllm-models/ci with one to three values dropped, retyped or out of range
    (inside a free-form Kubernetes structure only as a whole: its inside is the API server's to check)."""
    data = yaml.safe_load(draw(st.sampled_from(CI_VALUES)).read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        data = draw(_mutated_data(data, CHART_FREE_FORM))
    return data if isinstance(data, dict) else {"models": data}
