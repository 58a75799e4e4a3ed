"""Exports, the export register and the quotes board (see docs/exports.md).

Everything here reads through the report-export consent context: ``selection`` picks the items,
``tables``, ``quotes`` and ``qdpx`` turn them into files, ``register`` records and packs them.
"""
