"""`python -m incidents.cli`."""

from incidents.cli import main

main()
