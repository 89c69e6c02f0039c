"""Benchmark baselines (issue 12): registered only when BENCHMARK_ENDPOINTS is on, never in the OpenAPI document."""
