"""Benchmarks: each module measures one thing and prints it beside a baseline from the same run."""
