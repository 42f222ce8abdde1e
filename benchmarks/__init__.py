"""Benchmarks behind `rag bench` (the `bench` extra): speed, memory and scale, ours next to LangChain baselines."""
