"""The one exception type entry points turn into a one-line message and a non-zero exit."""


class UserError(Exception):
    """An expected mistake by the user (missing file, bad value, bad label): shown as one line."""
