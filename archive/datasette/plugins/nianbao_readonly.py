"""The archive is published read-only, and a bad request is the client's fault, never a 500.

- Every method but GET, HEAD and OPTIONS is answered 405 before Datasette sees it: writes to tables
  (`/-/insert`, `/-/delete`, `/-/create`), POSTs to canned queries, anything a visitor could try. Nothing
  in nianbao's pages needs POST (search and canned queries are GET forms).
- An Atom feed of a query with no rows (no change yet) is an empty feed (200); datasette-atom takes the
  max of no dates and answers 500.
- Atom entry links are absolute: a relative `atom_link` (no `nianbao.public_url` configured) is resolved
  against the feed's own URL, as a feed reader that ignores xml:base would otherwise break it.
- A path no route matches (`/a/b/c/d`, `/db/-/original/1/../../x`) is a 404: Datasette's default error
  handler pretty-prints every error with rich when rich is installed, and rich raises when no exception is
  being handled (a plain not-found), which turned those 404s into 500s. Errors are still logged (500s with
  their traceback); only rich's printing is off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from datasette import handle_exception as datasette_errors
from datasette import hookimpl
from datasette.utils import call_with_supported_arguments
from datasette.utils.asgi import Response

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
datasette_errors.rich = None  # see the module docstring: a not-found must not become a 500


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        async def read_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and scope.get("method", "GET").upper() not in SAFE_METHODS:
                body = b"405 Method Not Allowed: this archive is read-only\n"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 405,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"allow", b"GET, HEAD, OPTIONS"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            await app(scope, receive, send)

        return read_only

    return wrap


def _empty_feed(request: Any, title: str) -> Response:
    from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

    fg = FeedGenerator()
    fg.id(request.url)
    fg.link(href=request.url, rel="self")
    fg.title(title)
    fg.updated(datetime.now(UTC))
    return Response(
        fg.atom_str(pretty=True),
        content_type="application/xml; charset=utf-8",
        status=200,
    )


@hookimpl
def startup(datasette: Any) -> None:
    """Wrap the registered `.atom` renderer (datasette-atom) so that no rows give an empty feed."""
    entry = datasette.renderers.get("atom")
    if entry is None:
        return
    render, can_render = entry

    def render_atom(
        datasette: Any,
        request: Any,
        sql: Any,
        columns: Any,
        rows: Any,
        database: Any,
        table: Any,
        query_name: Any,
        view_name: Any,
        data: Any,
    ) -> Any:
        if not rows and {"atom_id", "atom_updated", "atom_title"}.issubset(columns or []):
            return _empty_feed(request, query_name or sql or "feed")
        if "atom_link" in (columns or []):
            rows = [dict(zip(columns, row, strict=False)) for row in rows]
            for row in rows:
                if row["atom_link"]:
                    row["atom_link"] = urljoin(request.url, str(row["atom_link"]))
        return call_with_supported_arguments(
            render,
            datasette=datasette,
            request=request,
            sql=sql,
            columns=columns,
            rows=rows,
            database=database,
            table=table,
            query_name=query_name,
            view_name=view_name,
            data=data,
            args=request.args,
        )

    datasette.renderers["atom"] = (render_atom, can_render)
