"""The search index's part in erasure: a withdrawn artefact leaves no document and no words behind.

Both backends are cleared whichever is configured (a setting may have been switched since the
item was indexed): the Whoosh folder, and the PostgreSQL backend's ``search_document`` row and
the words only it used. PostgreSQL keeps deleted rows' bytes in its files until VACUUM, as for
every other table.

Registered with ``archive.erasure`` when this module is imported (it is listed in
``ERASER_MODULES``). ``remaining`` checks the index files rather than search results: a
deleted-but-unmerged document is invisible to searches yet still on disk, and a generation
folder left by a crashed reindex may hold an older copy of everything.
"""

from __future__ import annotations

from sqlalchemy import select

from archive.erasure import Eraser, ErasureContext, register_eraser
from archive.models import Artefact, SearchDocument

from .index import remove_artefact, stale_copies, still_indexed


def _erase(ctx: ErasureContext, artefact: Artefact) -> None:
    from .pg import remove_document

    remove_artefact(ctx.settings.index_dir, artefact.id)
    remove_document(ctx.db, artefact.id)


def _remaining(ctx: ErasureContext, artefact: Artefact) -> list[str]:
    index_dir = ctx.settings.index_dir
    left = [f"stale index copy {path.name}" for path in stale_copies(index_dir)]
    if still_indexed(index_dir, artefact.id):
        left.append(f"document {artefact.id} in the search index")
    if ctx.db.scalar(select(SearchDocument.artefact_id).where(SearchDocument.artefact_id == artefact.id)):
        left.append(f"document {artefact.id} in the search_document table")
    return left


SEARCH_ERASER = register_eraser(Eraser("search index", _erase, _remaining))
