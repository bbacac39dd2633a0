"""The pagerduty hooks' settings in their tests (PagerDuty's Events API v2).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

URL = "https://events.pagerduty.com/v2/enqueue"
ROUTING_KEY = "test0routing0key0000000000005e1f"
SETTINGS = {
    "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
    "PAGERDUTY_CONNECTIONS": "pg-prod, bastion",  # the example payloads' connections
    "PAGERDUTY_EVENTS_URL": URL,
    "PAGERDUTY_SOURCE": "hoop-gateway",
    "PAGERDUTY_OPEN_SEVERITY": "warning",
    "PAGERDUTY_FAILED_SEVERITY": "error",
}
SECRET_SETTING = "PAGERDUTY_ROUTING_KEY"  # without it the hooks send nothing
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover
# left to the hooks' defaults in test_delivery.py (PAGERDUTY_CONNECTIONS is not: by
# default no session-open raises an alert)
DEFAULTS = [
    "PAGERDUTY_EVENTS_URL",
    "PAGERDUTY_SOURCE",
    "PAGERDUTY_OPEN_SEVERITY",
    "PAGERDUTY_FAILED_SEVERITY",
]
# A clean close raises no alert: the shared tests fire a failed one.
EVENT_FIELDS = {"session-close": {"exit_code": 1}}


def event_id(request):
    """The alert's dedup_key: PagerDuty folds triggers with the same key into one alert."""
    return request.json()["dedup_key"]
