"""LiteLLM proxy hook shipped by the vllm-models chart (loaded from the config's directory).

A request for a model this router does not serve gets a 404 that names the models it does serve.
LiteLLM 1.80.0's own answer is a 400 that only says "Call /v1/models", which leaves a client with a typo
guessing. Routing, auth and everything else stay LiteLLM's.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger


class UnknownModelGuard(CustomLogger):  # type: ignore[misc]
    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: str
    ) -> dict[str, Any]:
        from litellm.proxy.proxy_server import llm_router

        model = data.get("model")
        if llm_router is None or not isinstance(model, str):
            return data
        served = sorted(llm_router.get_model_names())
        if model not in served:
            raise HTTPException(
                status_code=404,
                detail=f"model {model!r} is not served here; available models: {', '.join(served)}",
            )
        return data


unknown_model_guard = UnknownModelGuard()
