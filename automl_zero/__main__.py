"""``python -m automl_zero``: the command-line interface."""

from automl_zero.run.cli import main

main()
