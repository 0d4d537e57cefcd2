"""Benchmarks: figures printed beside a reference measured in the same run."""
