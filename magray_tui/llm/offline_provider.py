"""The offline model as a litellm provider (`magray-offline/smollm2`), so every model —
hosted, local server or embedded — goes through the same `litellm.completion` path.

Imported only by `runtime.litellm()` (it needs litellm loaded).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from litellm.llms.custom_llm import CustomLLM, CustomLLMError
from litellm.types.utils import GenericStreamingChunk, ModelResponse

from magray_tui.llm.offline import OfflineModel

DEFAULT_MAX_TOKENS = 512


def _params(optional_params: dict[str, Any]) -> tuple[int, float]:
    max_tokens = optional_params.get("max_tokens") or optional_params.get("max_completion_tokens")
    temperature = optional_params.get("temperature")
    return int(max_tokens or DEFAULT_MAX_TOKENS), float(0.3 if temperature is None else temperature)


def _model(optional_params: dict[str, Any]) -> OfflineModel:
    try:
        return OfflineModel.shared(int(optional_params.get("offline_threads") or 1))
    except RuntimeError as exc:
        raise CustomLLMError(status_code=503, message=str(exc)) from None


class OfflineLLM(CustomLLM):
    """Streams llama.cpp chunks as litellm GenericStreamingChunks; no tool calling."""

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        messages = kwargs.get("messages") or (args[1] if len(args) > 1 else [])
        optional_params = kwargs.get("optional_params") or {}
        max_tokens, temperature = _params(optional_params)
        model = _model(optional_params)
        completion = 0
        finish = "stop"
        fmt = optional_params.get("response_format")  # /plan's schema: a JSON grammar
        chunks = model.stream(
            messages, max_tokens=max_tokens, temperature=temperature, response_format=fmt
        )
        for chunk in chunks:
            choice = (chunk.get("choices") or [{}])[0]
            text = (choice.get("delta") or {}).get("content") or ""
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
            if text:
                completion += 1  # llama.cpp streams one token per chunk
                yield GenericStreamingChunk(
                    text=text, tool_use=None, is_finished=False, finish_reason="", usage=None,
                    index=0,
                )  # fmt: skip
        prompt = sum(model.count(str(m.get("content") or "")) + 8 for m in messages)
        yield GenericStreamingChunk(
            text="",
            tool_use=None,
            is_finished=True,
            finish_reason=finish,
            usage={
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            index=0,
        )

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        text = "".join(chunk["text"] for chunk in self.streaming(*args, **kwargs))
        response = kwargs.get("model_response") or ModelResponse()
        response.choices[0].message.content = text  # type: ignore[union-attr]
        response.created = int(time.time())
        return response
