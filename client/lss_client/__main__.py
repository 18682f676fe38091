"""`python -m lss_client` runs the `lss` command."""

from lss_client.cli import main

main()
