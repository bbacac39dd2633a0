"""The microsoft-sentinel hooks' settings in their tests (Logs Ingestion API, Entra ID).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

import gzip
import json

TENANT = "11111111-2222-3333-4444-555555555555"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
ACCESS_TOKEN = "test-access-token-0b7e"
ENDPOINT = "https://hoop-dce-test.westeurope-1.ingest.monitor.azure.com"
RULE, STREAM = "dcr-0123456789abcdef0123456789abcdef", "Custom-HoopSessions_CL"
URL = f"{ENDPOINT}/dataCollectionRules/{RULE}/streams/{STREAM}?api-version=2023-01-01"
CLIENT_ID, CLIENT_SECRET = "66666666-7777-8888-9999-000000000000", "test-client-secret-3f9a"
SETTINGS = {
    "AZURE_TENANT_ID": TENANT,
    "AZURE_CLIENT_ID": CLIENT_ID,
    "AZURE_CLIENT_SECRET": CLIENT_SECRET,
    "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com",
    "SENTINEL_INGESTION_ENDPOINT": ENDPOINT,
    "SENTINEL_DCR_IMMUTABLE_ID": RULE,
    "SENTINEL_STREAM": STREAM,
    "SENTINEL_AUDIENCE": "https://monitor.azure.com",
}
SECRET_SETTING = "AZURE_CLIENT_SECRET"  # without it the hooks send nothing
SECRETS = [ACCESS_TOKEN]  # never in a hook's output either
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover
# left to the hooks' defaults in test_delivery.py (the values SETTINGS gives them too)
DEFAULTS = ["AZURE_AUTHORITY_HOST", "SENTINEL_STREAM", "SENTINEL_AUDIENCE"]
TOKEN_ROUTE = {"method": "POST", "url": TOKEN_URL}
TOKEN_REPLY = {"token_type": "Bearer", "expires_in": 3599, "access_token": ACCESS_TOKEN}
# Every hook run asks Entra ID for a token first: answered in every test, and not counted
# as a delivery by test_delivery.py.
OTHER_ROUTES = [(TOKEN_ROUTE, {"status_code": 200, "json": TOKEN_REPLY})]


def records(request):
    """The records of an upload: a gzip-compressed JSON array."""
    assert request.header("Content-Encoding") == "gzip"
    return json.loads(gzip.decompress(request.body))


def only_record(request):
    [record] = records(request)
    return record


def event_id(request):
    """The EventId column: query `HoopSessions_CL | summarize arg_min(TimeGenerated, *) by EventId`."""
    return only_record(request)["EventId"]
