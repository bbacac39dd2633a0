# The AWS SDKs' own variables: an IAM user's keys, or temporary ones with a session token.
AWS_REGION = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID", "")  # required
AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY", "")  # required: keep out of git
AWS_SESSION_TOKEN = os.environ.get("AWS_SESSION_TOKEN", "")  # with temporary credentials only
CLOUDWATCH_LOG_GROUP = os.environ.get("CLOUDWATCH_LOG_GROUP", "/hoop/sessions")
CLOUDWATCH_LOG_STREAM = os.environ.get("CLOUDWATCH_LOG_STREAM", "hoop-runbook-hooks")
# "true": create the log group and stream when they do not exist (needs logs:CreateLogGroup
# and logs:CreateLogStream besides logs:PutLogEvents)
CLOUDWATCH_CREATE_MISSING = os.environ.get("CLOUDWATCH_CREATE_MISSING", "false")
