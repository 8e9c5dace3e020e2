"""Exceptions that cross module boundaries."""


class IacforgeError(Exception):
    """Base class for errors iacforge raises on purpose, with a message meant for a user."""


class ConfigError(IacforgeError, ValueError):
    """A setting, option or argument has a value iacforge does not accept (CLI exit 2).

    It is a ValueError too, since that is what a bad argument value is in Python.
    """


class SetupError(IacforgeError):
    """The machine lacks something iacforge needs (terraform, the provider mirror, a sandbox)."""
