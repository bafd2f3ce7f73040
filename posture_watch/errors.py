"""Errors that reach the user as one line."""


class UserError(Exception):
    """Bad input, usage or environment: printed as one line, exit code 2."""


class ModelUnavailableError(UserError):
    """A model file could not be found, fetched or verified."""
