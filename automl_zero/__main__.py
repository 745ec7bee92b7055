"""``python -m automl_zero``: the command-line interface."""

from .cli import main

main()
