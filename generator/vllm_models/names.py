"""Names the chart, the CLI and the `just` recipes share: the Secrets the recipes fill and the values
reference, the label keys that select a release's pods (the chart's `_labels.tpl` writes them; a
render test holds the two together), and the label that says which secret an ExternalSecret fills.

The recipes read them from `vllm-models names --shell` instead of restating them.
"""

from __future__ import annotations

import shlex

HF_TOKEN_SECRET = "vllm-hf-token"
HF_TOKEN_KEY = "token"
# The router's master key (client auth at the router), not the engines' API key (`engineApiKey`).
ROUTER_MASTER_KEY_SECRET = "vllm-api-key"
ROUTER_MASTER_KEY_KEY = "master-key"
MODEL_LABEL = "vllm-models.io/model"
INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABEL = "app.kubernetes.io/component"
ROUTER_COMPONENT = "router"
ENGINE_COMPONENT = "engine"
OPEN_WEBUI_COMPONENT = "open-webui"
# On the chart's ExternalSecrets (templates/external-secrets/): which of the release's secrets each fills.
SECRET_LABEL = "vllm-models.io/secret"
HF_TOKEN_ROLE = "hf-token"
ROUTER_MASTER_KEY_ROLE = "router-master-key"
ENGINE_API_KEY_ROLE = "engine-api-key"


def shell_assignments(release: str) -> str:
    """``NAME=value`` lines for ``eval`` in a shell: the Secrets and the label selectors of ``release``."""
    instance = f"{INSTANCE_LABEL}={release}"
    names = {
        "HF_TOKEN_SECRET": HF_TOKEN_SECRET,
        "HF_TOKEN_KEY": HF_TOKEN_KEY,
        "ROUTER_MASTER_KEY_SECRET": ROUTER_MASTER_KEY_SECRET,
        "ROUTER_MASTER_KEY_KEY": ROUTER_MASTER_KEY_KEY,
        "MODEL_LABEL": MODEL_LABEL,
        "INSTANCE_SELECTOR": instance,
        "ROUTER_SELECTOR": f"{instance},{COMPONENT_LABEL}={ROUTER_COMPONENT}",
        # a model's engine pods: other per-model pods (an inference pool's endpoint picker) carry the model
        # label too
        "ENGINE_SELECTOR": f"{instance},{COMPONENT_LABEL}={ENGINE_COMPONENT}",
    }
    return "".join(f"{key}={shlex.quote(value)}\n" for key, value in names.items())
