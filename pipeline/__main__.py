"""``python -m pipeline`` runs the ``mediamon`` command line."""

from pipeline.cli import main

main()
