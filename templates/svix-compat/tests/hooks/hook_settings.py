"""The svix-compat hooks' settings in their tests (a receiver of Hoop's Svix webhooks).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

URL = "https://receiver.example.test/webhooks/hoop"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SETTINGS = {"SVIX_ENDPOINT_URL": URL, "SVIX_SECRET": SECRET}
SECRET_SETTING = "SVIX_SECRET"  # without it the hooks send nothing
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover


def event_id(request):
    """The svix-id header of a captured request: receivers dedupe on it."""
    return request.header("svix-id")
