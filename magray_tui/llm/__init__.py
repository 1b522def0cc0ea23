"""LLM access: litellm for every provider, provider resolution and the embedded offline model."""
