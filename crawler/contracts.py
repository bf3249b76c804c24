"""Scrapy contracts for the spider's callbacks, run offline by `scrapy check` from saved pages.

`@saved NAME URL` fetches `crawler/contracts_fixtures/NAME` (a page saved byte for byte, city-scrapers style)
and hands it to the callback as if it had been served at URL, so `scrapy check` needs no network and the
callback sees the portal's real URL layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.contracts import Contract

SAVED_DIR = Path(__file__).parent / "contracts_fixtures"


class SavedPageContract(Contract):
    """@saved NAME URL — the callback reads the saved page NAME as the response of URL."""

    name = "saved"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        saved, served_as = self.args
        args["url"] = (SAVED_DIR / saved).resolve().as_uri()
        args["meta"] = {**(args.get("meta") or {}), "nb_served_as": served_as}
        return args
