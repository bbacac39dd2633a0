SPLUNK_HEC_URL = os.environ.get(
    "SPLUNK_HEC_URL", "https://splunk.example.com:8088/services/collector/event"
)
SPLUNK_HEC_TOKEN = os.environ.get("SPLUNK_HEC_TOKEN", "")  # required: the HEC token
SPLUNK_INDEX = os.environ.get("SPLUNK_INDEX", "")  # empty: the token's default index
SPLUNK_SOURCE = os.environ.get("SPLUNK_SOURCE", "hoop")
SPLUNK_SOURCETYPE = os.environ.get("SPLUNK_SOURCETYPE", "hoop:session")
