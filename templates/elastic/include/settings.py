ELASTIC_URL = os.environ.get("ELASTIC_URL", "https://elastic.example.com:9200")
ELASTIC_API_KEY = os.environ.get("ELASTIC_API_KEY", "")  # required: the API key, encoded form
ELASTIC_INDEX = os.environ.get("ELASTIC_INDEX", "hoop-sessions")  # an index or a data stream
