"""LLM access: litellm for every provider, provider resolution and the embedded offline model.

Importing this package is cheap: litellm and llama.cpp load on the first call (in a worker).
The public API lives in `magray_tui.llm.client` (LLMClient) and `magray_tui.llm.events`.
"""
