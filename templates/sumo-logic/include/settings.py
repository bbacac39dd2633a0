# required: the HTTP source's URL; the token at its end is the secret, keep it out of git
SUMO_HTTP_SOURCE_URL = os.environ.get("SUMO_HTTP_SOURCE_URL", "")
SUMO_CATEGORY = os.environ.get("SUMO_CATEGORY", "hoop/sessions")  # _sourceCategory
SUMO_NAME = os.environ.get("SUMO_NAME", "hoop-runbook-hook")  # _sourceName
SUMO_HOST = os.environ.get("SUMO_HOST", "")  # _sourceHost; empty: the source's own setting
