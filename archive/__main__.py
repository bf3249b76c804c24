"""`python -m archive` = the `nianbao` command."""

from archive.cli import main

main()
