"""Queue mode (issue 12): portal jobs, captures, reads and reports as Dramatiq messages on Redis.

`broker.py` the broker and message names; `capture.py` the crawl child's item pipeline (spool + capture
messages instead of SQLite); `jobs.py` scheduling and running one portal job; `workers.py` the three
worker roles (crawl, write, read) and `--until-idle`. See docs/architecture.md "Queue mode".
"""
