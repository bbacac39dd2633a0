"""Errors a user can cause.

Every failure that comes from the user's input (a payload file, a repo, a flag) is a
``HookdkError``: the CLI prints its message on one line and exits 2, the pytest plugin
raises it as is. Anything else is a bug in the kit and keeps its traceback.
"""


class HookdkError(Exception):
    """A problem with the user's input, explained in one message."""


class PayloadError(HookdkError):
    """A payload file or override that Hoop would never send."""


class HookNotFound(HookdkError):
    """A hook file that is not where Hoop reads it."""
