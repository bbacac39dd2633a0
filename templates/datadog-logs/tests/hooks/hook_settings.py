"""The datadog-logs hooks' settings in their tests (Datadog's logs intake, EU site).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

URL = "https://http-intake.logs.datadoghq.eu/api/v2/logs"
API_KEY = "test-dd-api-key-93af"
SETTINGS = {
    "DATADOG_API_KEY": API_KEY,
    "DATADOG_SITE": "datadoghq.eu",
    "DATADOG_SERVICE": "hoop",
    "DATADOG_SOURCE": "hoop",
    "DATADOG_TAGS": "env:test,team:platform",
}
SECRET_SETTING = "DATADOG_API_KEY"  # without it the hooks send nothing
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover
# left to the hooks' defaults in test_delivery.py: the US1 site's intake, over HTTPS
DEFAULTS = ["DATADOG_SITE", "DATADOG_SERVICE", "DATADOG_SOURCE", "DATADOG_TAGS"]
DEFAULT_ROUTE = {"method": "POST", "url": "https://http-intake.logs.datadoghq.com/api/v2/logs"}


def only_log(request):
    """The intake takes a JSON array of logs; the hooks send one per event."""
    [log] = request.json()
    return log


def event_id(request):
    """The id of the one log a request holds: facet on @hoop.id to dedupe."""
    return only_log(request)["hoop"]["id"]
