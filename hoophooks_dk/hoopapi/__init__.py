"""Hoop's own API, read for ``hookdk replay`` and ``hookdk doctor``.

``credentials`` finds the API's address and token as Hoop's CLI does; ``client`` reads
the few routes the kit needs (``HoopApi``); ``replay`` maps a stored session onto the
payloads Hoop sent its hooks (``ReplayPlan``); ``config`` reads the org's hook
configuration and ``doctor`` (with ``localrepo`` for the repository on disk) says what
stops or thins the hooks. Every fact names the Hoop file it was read from (``source``,
at ``HOOP_COMMIT``); docs/replay-and-doctor.md has the whole mapping. Nothing here prints.
"""

from .. import lazy_exports

_EXPORTS = {
    "Credentials": "credentials",
    "CredentialsError": "credentials",
    "resolve": "credentials",
    "HoopApi": "client",
    "HoopApiError": "client",
    "ReplayPlan": "replay",
    "fetch_plan": "replay",
    "plan_replay": "replay",
    "HookConfig": "config",
    "Repository": "config",
    "read_config": "config",
    "Finding": "findings",
    "diagnose": "doctor",
    "HOOP_COMMIT": "source",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
