SLACK_WEBHOOK_URL = os.environ.get("SLACK_WEBHOOK_URL", "")  # required, and a secret
