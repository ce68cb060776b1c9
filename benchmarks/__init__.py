"""AttnStudio benchmarks: edit→repaint latency, start-up, engine throughput, export and memory.

Run them all with ``.venv/bin/python -m benchmarks`` (``--quick`` for a fast smoke run); see README.md.
Every number is a median and a p95 over many repetitions, next to a floor or peer measured in the same run.
"""
