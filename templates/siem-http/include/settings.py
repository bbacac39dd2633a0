SIEM_URL = os.environ.get("SIEM_URL", "https://siem.example.com/hoop/events")
SIEM_TOKEN = os.environ.get("SIEM_TOKEN", "")  # required: the collector's bearer token
