"""The benchmark: `python -m bench` (see README, "Benchmarks").

Drives the real daemon, in a child process of its own, against the twins in accelerated time,
next to a naive baseline through the same twins, and prints one table with the targets of
issue #13. Not part of the installed package: run it from the repository root.
"""
