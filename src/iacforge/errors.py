"""Exceptions that cross module boundaries."""


class IacforgeError(Exception):
    """Base class for errors iacforge raises on purpose, with a message meant for a user."""


class SetupError(IacforgeError):
    """The machine lacks something iacforge needs (terraform, the provider mirror, a sandbox)."""
