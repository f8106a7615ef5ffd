"""The router metrics the chart's Grafana dashboard and alert rules query are ones the real router, as
the chart renders it, exports: after chats, a stream and an unknown model, every `litellm_` or
`vllm_router_` name those objects use is on its /metrics (and on the list the render tier checks
against, tests/fixtures/metrics/)."""

from __future__ import annotations

from pathlib import Path

import httpx
from e2e_harness import VALUES, VLLM_ROUTER_SETS, helm_template, without_lora_adapters
from test_router import chat
from vllm_models.local.stack import Router

from tests.monitoring import dashboard_exprs, dashboard_of, exported, names_in, recorded, rule_exprs

MONITORING_SETS = (
    "serviceMonitor.enabled=true",
    "grafanaDashboard.enabled=true",
    "prometheusRule.enabled=true",
)


def test_dashboard_and_alerts_use_metrics_the_router_exports(
    router: Router, client: httpx.Client, helm: str, tmp_path: Path
) -> None:
    if router.engine == "vllm-router":
        release = helm_template(helm, [without_lora_adapters(tmp_path)], *VLLM_ROUTER_SETS, *MONITORING_SETS)
    else:
        release = helm_template(helm, [VALUES], *MONITORING_SETS)
    prefix = "litellm_" if router.engine == "litellm" else "vllm_router_"
    used = {
        n
        for n in names_in(rule_exprs(release.objects) + dashboard_exprs(dashboard_of(release.objects)))
        if n.startswith(prefix)
    }
    assert used, "the chart's monitoring objects query no router metric"

    for model in router.engines:
        assert chat(client, router, model).status_code == 200
        with client.stream(
            "POST",
            "/v1/chat/completions",
            json={
                "model": router.model_id(model),
                "messages": [{"role": "user", "content": "hi"}],
                "stream": True,
            },
        ) as stream:
            assert stream.status_code == 200
            stream.read()
    assert (
        client.post(
            "/v1/chat/completions",
            json={"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]},
        ).status_code
        == 404
    )

    if router.engine == "litellm":
        url = router.url + "/metrics/"
    else:
        url = f"http://127.0.0.1:{router.notes['metrics_port']}/metrics"
    names = exported(httpx.get(url, timeout=10).text)
    assert used <= names, f"not on the router's /metrics: {sorted(used - names)}"
    assert used <= recorded(prefix), f"not in the recorded list: {sorted(used - recorded(prefix))}"
