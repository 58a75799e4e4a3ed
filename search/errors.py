"""The one error a search raises for anything the person searching can fix."""


class QueryError(ValueError):
    """The search text or filters cannot be used; the message is fit to show the person searching."""


class IndexOutOfDate(QueryError):
    """The index was written by an older schema: searches say so until it is rebuilt."""
