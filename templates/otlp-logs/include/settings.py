# The OpenTelemetry SDKs' own variables, read as the OTLP exporter specification says:
# the base endpoint gets /v1/logs appended; a logs endpoint is used as it is.
OTEL_EXPORTER_OTLP_ENDPOINT = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
OTEL_EXPORTER_OTLP_LOGS_ENDPOINT = os.environ.get("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "")
OTEL_EXPORTER_OTLP_HEADERS = os.environ.get("OTEL_EXPORTER_OTLP_HEADERS", "")  # "k=v,k2=v2"
OTEL_SERVICE_NAME = os.environ.get("OTEL_SERVICE_NAME", "hoop")
OTEL_RESOURCE_ATTRIBUTES = os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")  # "k=v,k2=v2"
