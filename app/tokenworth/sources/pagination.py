"""Following a provider's `has_more` / `next_page` cursor to the end, refusing one that repeats."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tokenworth.sources.provider_http import BadResponse, Where
from tokenworth.sources.provider_records import FieldError, Page, Reader

MAX_PAGES = 2000
"""A bound on one window's pages; far above any real window (90 days of hourly buckets is 13)."""


def follow_pages(
    fetch: Callable[[str | None], Any],
    parse: Callable[[Reader, int], Page],
    where: Where,
) -> Iterator[Page]:
    """Yield each page, parsed and checked whole (its cursor included) before it is yielded, so a
    bad page never reaches the database. `fetch(cursor)` returns one page's JSON."""
    cursor: str | None = None
    seen: set[str] = set()
    number = 0
    while True:
        number += 1
        if number > MAX_PAGES:
            raise where.error(BadResponse, f"more than {MAX_PAGES} pages; stopped")
        body = fetch(cursor)
        try:
            reader = Reader(body, f"page {number}")
            has_more = reader.flag("has_more")
            next_page = reader.string("next_page", required=False)
            page = parse(reader, number)
        except FieldError as exc:
            raise where.error(BadResponse, str(exc)) from None
        if has_more:
            if not next_page:
                raise where.error(BadResponse, f"page {number}: has_more is true but next_page is empty")
            if next_page in seen:
                shown = next_page if len(next_page) <= 60 else next_page[:59] + "…"
                raise where.error(
                    BadResponse,
                    f"page {number}: pagination cursor repeated ({shown!r}); stopped instead of looping",
                )
            seen.add(next_page)
        yield page
        if not has_more:
            return
        cursor = next_page
