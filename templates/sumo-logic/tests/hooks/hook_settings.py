"""The sumo-logic hooks' settings in their tests (a Sumo Logic HTTP source).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

URL = "https://endpoint1.collection.sumologic.com/receiver/v1/http/test-source-token-7d1c"
SETTINGS = {
    "SUMO_HTTP_SOURCE_URL": URL,
    "SUMO_CATEGORY": "prod/hoop/sessions",
    "SUMO_NAME": "hoop-hooks",
    "SUMO_HOST": "hoop-gateway-1",
}
SECRET_SETTING = "SUMO_HTTP_SOURCE_URL"  # the URL is the secret; without it nothing is sent
SECRETS = ["test-source-token-7d1c"]  # in the URL: a failure names the host only
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover
# left to the hooks' defaults in test_delivery.py
DEFAULTS = ["SUMO_CATEGORY", "SUMO_NAME", "SUMO_HOST"]


def event_id(request):
    """The id in the logged JSON: search with `| json "id"` and count each id once."""
    return request.json()["id"]
