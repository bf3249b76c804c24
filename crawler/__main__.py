"""`python -m crawler` = the `nianbao` command."""

from crawler.cli import main

main(prog_name="nianbao")
