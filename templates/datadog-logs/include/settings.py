DATADOG_API_KEY = os.environ.get("DATADOG_API_KEY", "")  # required: an API key
DATADOG_SITE = os.environ.get(
    "DATADOG_SITE", "datadoghq.com"
)  # datadoghq.eu, us5.datadoghq.com, ...
DATADOG_SERVICE = os.environ.get("DATADOG_SERVICE", "hoop")
DATADOG_SOURCE = os.environ.get("DATADOG_SOURCE", "hoop")
DATADOG_TAGS = os.environ.get("DATADOG_TAGS", "")  # extra tags, e.g. "env:prod,team:platform"
