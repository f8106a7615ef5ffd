"""LiteLLM proxy hooks shipped by the vllm-models chart (loaded from the config's directory).

- A request for a model this router does not serve gets a 404 that names the models it does serve.
  LiteLLM's own answer (1.80 to 1.108) is a 400 that only says "Call /v1/models", which leaves a client with a
  typo guessing.
- A model whose engine cannot be reached answers 503, one whose engine times out 504 (not 500 and 408).
- Auth: the chart runs LiteLLM without a database, where only the master key can be valid. LiteLLM
  alone answers any other key with 400 "No connected db."; `master_key_only` answers it with a 401.
  (Virtual keys need a database; with one, drop `custom_auth` and LiteLLM's own key checks apply.)
Routing and everything else stay LiteLLM's.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

import httpx
import litellm
from fastapi import HTTPException, Request
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth


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


class EngineFailureStatus(CustomLogger):  # type: ignore[misc]
    """A model whose engine cannot be reached answers 503, one whose engine does not answer in time 504.

    LiteLLM answers both with codes that point at the wrong party: 500 for a refused connection (an
    engine scaled to zero or crash-looping: the service is unavailable, not broken) and 408 for its own
    request timeout (408 says the client was too slow). A client or load balancer retries 503 and 504.
    """

    async def async_post_call_failure_hook(
        self,
        request_data: dict[str, Any],
        original_exception: Exception,
        user_api_key_dict: Any,
        traceback_str: str | None = None,
    ) -> HTTPException | None:
        causes = list(_causes(original_exception))
        model = request_data.get("model")
        if any(
            isinstance(c, (httpx.ConnectError, httpx.ConnectTimeout, ConnectionRefusedError)) for c in causes
        ):
            return HTTPException(status_code=503, detail=f"model {model!r} is unavailable: no engine answers")
        if any(isinstance(c, (httpx.TimeoutException, litellm.Timeout)) for c in causes):
            return HTTPException(
                status_code=504,
                detail=f"model {model!r}: the engine did not answer within the router's timeout",
            )
        return None


def _causes(exception: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exception
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


engine_failure_status = EngineFailureStatus()


async def master_key_only(request: Request, api_key: str | None) -> UserAPIKeyAuth:
    master = os.environ.get("LITELLM_MASTER_KEY", "")
    # LiteLLM passes None, not "", when the request has no Authorization header.
    presented = (api_key or "").removeprefix("Bearer ").strip()
    # An unset master key must not make the empty key valid; compare_digest keeps the timing flat.
    if master and hmac.compare_digest(presented.encode(), master.encode()):
        return UserAPIKeyAuth(api_key=presented, user_role=LitellmUserRoles.PROXY_ADMIN)
    raise HTTPException(status_code=401, detail="invalid or missing API key")
