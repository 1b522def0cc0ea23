"""Monitoring: the NVML GPU sampler, latency metrics and health checks."""
