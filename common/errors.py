"""The one exception type entry points turn into a one-line message and a non-zero exit, and the warning said once
for a setting that is taken but does not do what its user may think."""

_TOLD: set[str] = set()


class UserError(Exception):
    """An expected mistake by the user (missing file, bad value, bad label): shown as one line."""


def warn_once(message: str) -> None:
    """Warn of `message` the first time only (a setting resolved for every model, source and run of a process)."""
    if message not in _TOLD:
        from loguru import logger

        _TOLD.add(message)
        logger.warning(message)
