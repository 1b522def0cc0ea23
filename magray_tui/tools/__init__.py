"""Tools the agent may call: registry with JSON-schema specs, policy and sandboxed tools."""
