# An app registration (service principal) with the Monitoring Metrics Publisher role on the
# data collection rule; the same variables the Azure SDKs' EnvironmentCredential reads.
AZURE_TENANT_ID = os.environ.get("AZURE_TENANT_ID", "")  # required
AZURE_CLIENT_ID = os.environ.get("AZURE_CLIENT_ID", "")  # required
AZURE_CLIENT_SECRET = os.environ.get("AZURE_CLIENT_SECRET", "")  # required: keep out of git
AZURE_AUTHORITY_HOST = os.environ.get("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com")
# The data collection endpoint's (or the rule's own) logs ingestion URL, the rule's
# immutable id (dcr-...) and its stream, declared with the columns TimeGenerated
# (datetime), EventType, EventId, SessionId (string) and Details (dynamic).
SENTINEL_INGESTION_ENDPOINT = os.environ.get("SENTINEL_INGESTION_ENDPOINT", "")
SENTINEL_DCR_IMMUTABLE_ID = os.environ.get("SENTINEL_DCR_IMMUTABLE_ID", "")
SENTINEL_STREAM = os.environ.get("SENTINEL_STREAM", "Custom-HoopSessions_CL")
SENTINEL_AUDIENCE = os.environ.get("SENTINEL_AUDIENCE", "https://monitor.azure.com")
