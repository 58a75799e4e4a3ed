"""`chorus search`: the same search as the pages, at a chosen consent level, from the command line.

archive.cli registers this command on the `chorus` group; nothing from archive.cli is imported
at module level here, so either module may be imported first without a cycle.
"""

from __future__ import annotations

import html
import json
import re
import sys
from functools import wraps

import click

LEVELS = ("team", "report", "exhibit")
_MARK = re.compile(r"</?mark>")


def _friendly_errors(func):
    """archive.cli.friendly_errors, looked up when the command runs."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        from archive.cli import friendly_errors

        return friendly_errors(func)(*args, **kwargs)

    return wrapper


def searcher_for(db, level: str, programme_codes: tuple[str, ...]):
    """(principal, context, filters) for a level: a system principal holding the admin role in the programmes.

    ``exhibit`` is the public context, which spans every programme, so the programmes become a
    filter there. Raises click.UsageError for an unknown programme code.
    """
    from sqlalchemy import select

    from archive.consent import Context
    from archive.models import Programme, Role
    from archive.principal import Principal

    if programme_codes:
        found = dict(db.execute(select(Programme.code, Programme.id).where(Programme.code.in_(programme_codes))).all())
        missing = [code for code in programme_codes if code not in found]
        if missing:
            raise click.UsageError(f"no programme with the code {missing[0]!r}")
        programme_ids = sorted(found.values())
    else:
        programme_ids = sorted(db.scalars(select(Programme.id)))
    principal = Principal(kind="system", roles=frozenset((pid, Role.ADMIN) for pid in programme_ids))
    context = {"team": Context.TEAM, "report": Context.ANALYSIS, "exhibit": Context.PUBLIC_EXHIBIT}[level]
    filters = {"programme": [str(p) for p in programme_ids]} if level == "exhibit" and programme_codes else {}
    return principal, context, filters


def as_record(result) -> dict:
    """Exactly what ``--json`` prints."""
    return {
        "total": result.total,
        "hits": [{"id": h.id, "kind": h.kind, "themes": h.themes, "snippet": h.snippet} for h in result.hits],
        "facets": result.facets,
    }


def _plain(snippet: str) -> str:
    return html.unescape(_MARK.sub("*", snippet))


def as_text(result, with_facets: bool) -> str:
    lines = [f"{result.total} found" + (f", showing {len(result.hits)}" if len(result.hits) < result.total else "")]
    for hit in result.hits:
        themes = ", ".join(hit.themes) or "no themes"
        lines.append(f"{hit.id}  {hit.kind}  [{themes}]")
        if hit.snippet:
            lines.append(f"    {_plain(hit.snippet)}")
    if with_facets:
        for name, counts in result.facets.items():
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = ", ".join(f"{value} {count}" for value, count in ranked)
            lines.append(f"{name}: {shown or '-'}")
    return "\n".join(lines)


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--level", type=click.Choice(LEVELS), default="report", show_default=True,
              help="Search what this consent level allows: team (the programme team), report (analysis), "
                   "exhibit (public).")
@click.option("--programme", "programme_codes", multiple=True, metavar="CODE",
              help="Only this programme (repeat for several); default every programme.")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--limit", type=int, default=20, show_default=True, help="Hits a page (at most 100).")
@click.option("--facets", "with_facets", is_flag=True, help="Also print facet counts.")
@click.option("--json", "as_json", is_flag=True, help='Print {"total", "hits", "facets"} as JSON.')
@click.pass_context
@_friendly_errors
def search_command(ctx, query, level, programme_codes, page, limit, with_facets, as_json):
    """Search the archive as the pages do, at a consent level; QUERY uses the page's syntax.

    Exits 1 with a message when the query cannot be used.
    """
    from archive.cli import _ready_services

    from .errors import QueryError
    from .service import run_search

    svc = _ready_services(ctx)
    with svc.session() as db:
        principal, context, filters = searcher_for(db, level, programme_codes)
    try:
        result = run_search(svc, principal, context, query, filters=filters, page=page, pagelen=limit)
    except QueryError as exc:
        click.echo(f"chorus search: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(as_record(result), ensure_ascii=False, indent=2) if as_json else as_text(result, with_facets))
