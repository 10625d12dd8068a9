"""crmql benchmark suite (see README.md); run benchmarks/run.py."""
