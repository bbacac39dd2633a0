PAGERDUTY_ROUTING_KEY = os.environ.get("PAGERDUTY_ROUTING_KEY", "")  # required: integration key
# connections whose session-open raises an alert, comma-separated ("" = none, "*" = all)
PAGERDUTY_CONNECTIONS = os.environ.get("PAGERDUTY_CONNECTIONS", "")
PAGERDUTY_EVENTS_URL = os.environ.get(
    "PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue"
)  # EU service region: https://events.eu.pagerduty.com/v2/enqueue
PAGERDUTY_SOURCE = os.environ.get("PAGERDUTY_SOURCE", "hoop")  # the alert's source field
PAGERDUTY_OPEN_SEVERITY = os.environ.get("PAGERDUTY_OPEN_SEVERITY", "warning")
PAGERDUTY_FAILED_SEVERITY = os.environ.get("PAGERDUTY_FAILED_SEVERITY", "error")
