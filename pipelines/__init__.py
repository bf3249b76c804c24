"""Extraction, parsing and checking of disclosure annual reports."""

# Bumped whenever parsing changes what it produces, so `nianbao reparse` results can be told apart.
PARSER_VERSION = "0.1.0"
