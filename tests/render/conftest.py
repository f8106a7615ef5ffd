"""Render tier fixtures: `helm template` of the chart, run once per distinct input and cached per session.

`render(values, *args, release=...)` takes a values file path or a values dict and returns a `Rendered`:
the exit code, stderr and the parsed objects. Failing renders are returned, not raised, so tests can
assert the message.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from render_helpers import CHART, NAMESPACE, RELEASE, Rendered


@pytest.fixture(scope="session")
def render(helm: str) -> Iterator[Callable[..., Rendered]]:
    cache: dict[str, Rendered] = {}
    with tempfile.TemporaryDirectory(prefix="vllm-models-render-") as tmp:

        def _render(values: Path | dict[str, Any], *extra: str, release: str = RELEASE) -> Rendered:
            if isinstance(values, dict):
                text = yaml.safe_dump(values, sort_keys=True)
                path = Path(tmp) / f"values-{len(cache)}.yaml"
            else:
                text, path = f"file:{values}", values
            key = "\0".join((release, text, *extra))
            if key not in cache:
                if isinstance(values, dict):
                    path.write_text(text, encoding="utf-8")
                proc = subprocess.run(
                    [
                        helm,
                        "template",
                        release,
                        str(CHART),
                        "--namespace",
                        NAMESPACE,
                        "-f",
                        str(path),
                        *extra,
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=120,
                )
                objects = [d for d in yaml.safe_load_all(proc.stdout) if d] if proc.returncode == 0 else []
                cache[key] = Rendered(proc.returncode, proc.stdout, proc.stderr, objects)
            return cache[key]

        yield _render
