"""The search index's part in erasure: a withdrawn artefact leaves no document and no words behind.

Registered with ``archive.erasure`` when this module is imported (it is listed in
``ERASER_MODULES``). ``remaining`` checks the index files rather than search results: a
deleted-but-unmerged document is invisible to searches yet still on disk, and a generation
folder left by a crashed reindex may hold an older copy of everything.
"""

from __future__ import annotations

from archive.erasure import Eraser, ErasureContext, register_eraser
from archive.models import Artefact

from .index import remove_artefact, stale_copies, still_indexed


def _erase(ctx: ErasureContext, artefact: Artefact) -> None:
    remove_artefact(ctx.settings.index_dir, artefact.id)


def _remaining(ctx: ErasureContext, artefact: Artefact) -> list[str]:
    index_dir = ctx.settings.index_dir
    left = [f"stale index copy {path.name}" for path in stale_copies(index_dir)]
    if still_indexed(index_dir, artefact.id):
        left.append(f"document {artefact.id} in the search index")
    return left


SEARCH_ERASER = register_eraser(Eraser("search index", _erase, _remaining))
