"""The google-secops hooks' settings in their tests (a SecOps webhook feed, EU region).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

FEED = "projects/test-project/locations/eu/instances/test-instance/feeds/test-feed"
URL = f"https://eu-chronicle.googleapis.com/v1alpha/{FEED}:importPushLogs"
API_KEY = "test-api-key-4c2f"
FEED_SECRET = "test-feed-secret-a90b"
SETTINGS = {"SECOPS_FEED_URL": URL, "SECOPS_API_KEY": API_KEY, "SECOPS_FEED_SECRET": FEED_SECRET}
SECRET_SETTING = "SECOPS_FEED_SECRET"  # without it the hooks send nothing
SECRETS = [API_KEY]  # neither key shows in a hook's output
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover


def event_id(request):
    """The id in the event's JSON: a parser maps it to metadata.product_log_id."""
    return request.json()["id"]
