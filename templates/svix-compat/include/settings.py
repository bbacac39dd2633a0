SVIX_ENDPOINT_URL = os.environ.get(
    "SVIX_ENDPOINT_URL", "https://receiver.example.com/webhooks/hoop"
)
SVIX_SECRET = os.environ.get("SVIX_SECRET", "")  # required: the endpoint's whsec_... secret
