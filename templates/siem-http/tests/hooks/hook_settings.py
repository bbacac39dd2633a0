"""The siem-http hooks' settings in their tests (a SIEM collector taking JSON events).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

URL = "https://siem.example.test/hoop/events"
TOKEN = "test-token-7d1c"
SETTINGS = {"SIEM_URL": URL, "SIEM_TOKEN": TOKEN}
SECRET_SETTING = "SIEM_TOKEN"  # without it the hooks send nothing
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover


def event_id(request):
    """A captured request's idempotency key: the collector dedupes on it."""
    return request.header("Idempotency-Key")
