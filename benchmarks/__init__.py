"""Benchmarks at scale on a dedicated database (`make bench`, or `python benchmarks/run.py --help`)."""
