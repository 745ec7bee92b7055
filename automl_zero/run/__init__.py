"""Running searches: the run directory, the search driver, the CLI and the
benchmarks. The only layer that touches files and the terminal."""
