"""Research instruments of the benchmark: `python -m bench.lab <command>`, not `make bench`."""
