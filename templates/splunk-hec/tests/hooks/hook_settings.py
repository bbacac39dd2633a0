"""The splunk-hec hooks' settings in their tests (Splunk's HTTP Event Collector).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

URL = "https://splunk.example.test:8088/services/collector/event"
TOKEN = "test-hec-token-5b2e"
SETTINGS = {
    "SPLUNK_HEC_URL": URL,
    "SPLUNK_HEC_TOKEN": TOKEN,
    "SPLUNK_INDEX": "hoop",
    "SPLUNK_SOURCE": "hoop",
    "SPLUNK_SOURCETYPE": "hoop:session",
}
SECRET_SETTING = "SPLUNK_HEC_TOKEN"  # without it the hooks send nothing
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover
# left to the hooks' defaults in test_delivery.py (the token's default index)
DEFAULTS = ["SPLUNK_INDEX", "SPLUNK_SOURCE", "SPLUNK_SOURCETYPE"]


def event_id(request):
    """The id in a HEC event's body: search with `| dedup id`."""
    return request.json()["event"]["id"]
