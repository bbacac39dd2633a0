"""The elastic hooks' settings in their tests (one Elasticsearch document per event).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

ELASTIC = "https://elastic.example.test:9200"
INDEX = "hoop-sessions-test"
API_KEY = "dGVzdDp0ZXN0LWtleS1lNDFh"
SETTINGS = {"ELASTIC_URL": ELASTIC, "ELASTIC_API_KEY": API_KEY, "ELASTIC_INDEX": INDEX}
SECRET_SETTING = "ELASTIC_API_KEY"  # without it the hooks send nothing
ROUTE = {"method": "PUT", "url__startswith": ELASTIC}  # test_delivery.py makes it fail
# left to the hooks' defaults in test_delivery.py: the index hoop-sessions
DEFAULTS = ["ELASTIC_INDEX"]
DEFAULT_ROUTE = {"method": "PUT", "url__startswith": f"{ELASTIC}/hoop-sessions/_create/"}


def document_url(event_id):
    """_create with the payload id: Elasticsearch refuses a second document with that id."""
    return f"{ELASTIC}/{INDEX}/_create/{event_id}"


def event_id(request):
    """The document id, from the URL of a captured request (the idempotency key)."""
    return request.url.removeprefix(document_url(""))
