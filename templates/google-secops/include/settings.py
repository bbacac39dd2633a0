# the feed's endpoint URL, as the feed's page shows it (ends in :importPushLogs)
SECOPS_FEED_URL = os.environ.get("SECOPS_FEED_URL", "")
SECOPS_API_KEY = os.environ.get("SECOPS_API_KEY", "")  # required: a Google Cloud API key
SECOPS_FEED_SECRET = os.environ.get("SECOPS_FEED_SECRET", "")  # required: the feed's secret key
