"""Domain errors of the catalog and indexes."""


class CatalogError(Exception):
    """Base class of catalog errors; messages are meant for people."""


class WorkNotFound(CatalogError, LookupError):
    """No active work has this id."""


class CreatorNotFound(CatalogError, LookupError):
    """No creator of this id was ever registered (no works, no terms)."""


class WorkConflict(CatalogError):
    """The work id is already registered with different bytes."""


class InvalidId(CatalogError, ValueError):
    """A creator or work id is malformed (empty, too long, traversal, control characters)."""
