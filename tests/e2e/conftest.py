"""e2e tier fixtures: the chart's router, as rendered, against one simulated engine per model.

`router` is parametrized over the router engines (`litellm`, `vllm-router`) and shared by every test of
the tier: LiteLLM takes tens of seconds to start. Each router gets its own engines; a test that stops an
engine starts it again on the same port and waits until the router serves it again before it returns.
Every process runs in its own process group and is stopped at teardown, also when a test or the startup
failed. Logs stay in the tmp dir pytest reports.

The simulated engine is vllm_models/local/simengine.py (llm-d-inference-sim is not installable here: the
Go module proxy refuses it). It answers like vLLM and names itself in every answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_harness import VALUES, VENV_BIN, VLLM_ROUTER_SETS, helm_template, without_lora_adapters
from vllm_models.local.processes import Proc
from vllm_models.local.stack import Engine, Router, start_router

ROUTER_ENGINES = ("litellm", "vllm-router")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def start_release(
    helm: str,
    tmp: Path,
    procs: list[Proc | Engine],
    engine: str,
    values: tuple[Path, ...] = (),
    sets: tuple[str, ...] = (),
) -> Router:
    """Render the tier's values for one router engine and run the release on loopback."""
    engine_sets = VLLM_ROUTER_SETS if engine == "vllm-router" else ()
    base = without_lora_adapters(tmp) if engine == "vllm-router" else VALUES
    release = helm_template(helm, [base, *values], *engine_sets, *sets)
    return start_router(release, tmp, procs, VENV_BIN)


@pytest.fixture(scope="package", params=ROUTER_ENGINES)
def router(
    request: pytest.FixtureRequest, helm: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Router]:
    engine = str(request.param)
    tmp = tmp_path_factory.mktemp(f"e2e-{engine}")
    started: list[Proc | Engine] = []  # engines and router, stopped even when the startup failed
    try:
        r = start_release(helm, tmp, started, engine)
        yield r
        if r.notes:
            print(f"\n[e2e {engine}] {r.notes}")
    finally:
        for p in reversed(started):
            p.stop()


@pytest.fixture
def client(router: Router) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=router.url, headers=router.headers(), timeout=30) as c:
        yield c
