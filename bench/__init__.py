"""Benchmarks and chaos runs (issue 7). Not part of `make test`; run with `make bench`.

Each module is a script: `.venv/bin/python -m bench.<name> --help`. It prints its figures and
writes a JSON result under bench/results/. Every figure comes with a baseline measured in the
same run, because the machine is shared and absolute numbers drift.
"""
