"""Benchmarks of the service against limits measured in the same run (not tests).

Run them all with ``.venv/bin/python bench/run.py``; see docs/PERFORMANCE.md.
"""
