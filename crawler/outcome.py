"""How a crawl ended, decided from what it saw: status, reason, exit code, and whether "gone" may be said.

"Gone" is what journalists report on, so a document is called gone only on positive evidence: a 404/410 on
the document itself (the spider's `gone` event), or absence from lists that this crawl read completely.
A crawl that fetched no page of the portal (refused, robots.txt, every start URL failing), or saw no report
where the archive holds some, ends `failed` and marks nothing gone. A crawl whose list walks did not all end
complete, or that reached fewer than `min_reached` of the portal's known reports (a walk ended early for a
reason nobody saw), marks nothing gone by absence either, and says so (`gone_skipped`).

| status        | exit | meaning                                                                  |
| ------------- | ---- | ------------------------------------------------------------------------ |
| `finished`    | 0    | every list and report fetched and archived                               |
| `failed`      | 1    | no page of the portal read, or no report where the archive has some      |
| `blocked`     | 3    | entry pages (or a run of pages) answered with anti-bot challenges        |
| `interrupted` | 4    | stopped by SIGTERM/Ctrl-C, or (closed at the next start) killed          |
| `partial`     | 5    | ended, but something is missing: fetch errors, challenges, page budget   |

Exit code 2 is click's (a usage error). A multi-portal crawl exits with the code of its worst status.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

EXIT_CODES = {"finished": 0, "failed": 1, "blocked": 3, "interrupted": 4, "partial": 5}
SEVERITY = ("finished", "partial", "interrupted", "blocked", "failed")  # worst last
LIST_KINDS = ("page", "list", "api")


@dataclass
class CrawlFacts:
    """What the archive stage counted while items passed, plus the spider's flags at the end."""

    pages_ok: int = 0  # portal / list pages fetched with a 2xx answer
    fetched: int = 0
    errors: int = 0  # faults that leave something unread (404/410 are answers, not faults)
    list_errors: int = 0  # any failed page/list/api fetch: the lists were not read completely
    gone_answers: int = 0
    store_errors: int = 0
    challenged: int = 0
    archived_reports: int = 0  # reports of the portal in the archive before this crawl
    reports_found: int = 0
    robots_forbidden: int = 0
    reached_reports: int = 0  # of the `archived_reports`, how many this crawl fetched or saw linked
    min_reached: float = 0.8  # NIANBAO_GONE_MIN_REACHED: below this share of known reports, no gone pass
    truncated_lists: int = 0  # lists whose own page budget ran out
    incomplete_lists: list[str] = field(default_factory=list)  # "list: why" for lists not read completely
    budget_exhausted: bool = False
    resumed: bool = False
    blocked_evidence: str | None = None
    finish_reason: str = "finished"
    reasons: Counter[str] = field(default_factory=Counter)

    def note(self, item: Any) -> None:
        if item.event == "fetched":
            self.fetched += 1
            if item.kind in LIST_KINDS and (item.http_status or 200) < 300:
                self.pages_ok += 1
        elif item.event == "not_modified":  # a 304 is an answer: a list's links come from its stored copy
            if item.kind in LIST_KINDS:
                self.pages_ok += 1
        elif item.event == "gone":
            self.gone_answers += 1
        elif item.event in ("challenged", "blocked"):
            self.challenged += 1
        elif item.event == "error":
            if item.kind in LIST_KINDS:
                self.list_errors += 1
            # 404/410 are answers, robots.txt and off-site refusals are the crawl's own rules: on record,
            # but they do not make a crawl partial.
            if item.http_status not in (404, 410) and item.stage not in ("robots", "offsite"):
                self.errors += 1
            self.reasons[f"{item.stage}: {(item.evidence or '')[:80]}"] += 1


@dataclass
class Outcome:
    status: str
    reason: str | None
    gone_pass: bool
    gone_skipped: str | None = None  # why a crawl that ended normally still marks nothing gone by absence

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def _top(reasons: Counter[str]) -> str:
    return "; ".join(f"{n}× {r}" for r, n in reasons.most_common(3))


def decide(f: CrawlFacts) -> Outcome:
    """The crawl's status and reason, and whether its unseen documents may be marked gone."""
    why = f.finish_reason
    if why == "shutdown":
        return Outcome("interrupted", "stopped by a signal (SIGTERM / Ctrl-C) before the end", False)
    if f.blocked_evidence:
        return Outcome("blocked", f"anti-bot challenge: {f.blocked_evidence[:300]}", False)
    if why != "finished" and not why.startswith("closespider_"):
        return Outcome("failed", f"the crawl stopped: {why}", False)
    if f.resumed and f.fetched > 0:
        pass  # a resumed queue may hold only reports: the earlier run read the lists
    elif f.pages_ok == 0:
        detail = _top(f.reasons) or "no answer at all"
        if f.robots_forbidden:
            detail = f"robots.txt forbids the start pages ({f.robots_forbidden} requests); " + detail
        return Outcome("failed", f"fetched no page of the portal: {detail}", False)
    elif f.reports_found == 0 and f.archived_reports > 0:
        return Outcome(
            "failed",
            f"saw no report where the archive holds {f.archived_reports}"
            + (f": {_top(f.reasons)}" if f.reasons else ""),
            False,
        )
    missing = []
    if why.startswith("closespider_"):
        missing.append(f"stopped early ({why})")
    if f.budget_exhausted:
        missing.append("page budget exhausted")
    if f.truncated_lists:
        missing.append(f"{f.truncated_lists} lists cut by the list page budget")
    if f.challenged:
        missing.append(f"{f.challenged} challenged pages")
    if f.errors:
        missing.append(f"{f.errors} failed fetches ({_top(f.reasons)})")
    if f.store_errors:
        missing.append(f"{f.store_errors} archive write errors")
    lists_complete = (
        not f.budget_exhausted
        and not f.challenged
        and f.list_errors == 0
        and not f.resumed
        and f.reports_found > 0
        and why == "finished"
    )
    skipped = None
    if lists_complete and f.incomplete_lists:
        lists_complete = False
        if f.archived_reports:  # a first crawl has nothing to call gone: no need to say it skipped
            skipped = f"gone pass skipped: {len(f.incomplete_lists)} lists not read completely ({f.incomplete_lists[0]})"
    # Rounded down, so that one true withdrawal among a small portal's 4 reports stays visible.
    needed = math.floor(f.min_reached * f.archived_reports)
    if lists_complete and f.reached_reports < needed:
        # The walk ended early for a reason nobody saw (an alias page, a changed page size, a pager the
        # families misread): absence from such a walk is no evidence. A human looks before anything is gone.
        lists_complete = False
        skipped = (
            f"gone pass skipped: reached {f.reached_reports} of {f.archived_reports} known reports"
            f" (needs {needed}, NIANBAO_GONE_MIN_REACHED={f.min_reached:g})"
        )
        missing.append(skipped)
    if missing:
        return Outcome("partial", "; ".join(missing), lists_complete, skipped)
    return Outcome("finished", skipped, lists_complete, skipped)


def worst_exit_code(statuses: list[str]) -> int:
    """The exit code of a multi-portal crawl: that of its worst status."""
    known = [s for s in statuses if s in SEVERITY]
    if not known:
        return EXIT_CODES["failed"]
    return EXIT_CODES[max(known, key=SEVERITY.index)]


_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def safe_filename(name: str | None, limit: int = 200) -> str | None:
    """A served file name as it may be stored: no directories (`../../etc/passwd.pdf` → `passwd.pdf`), no
    control or shell-special characters, no leading dots, at most `limit` characters (extension kept)."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if not name:
        return None
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: limit - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:limit]
    return name
