"""Where in Hoop's source each fact this package relies on was read.

Every rule in ``hoopapi`` names the Hoop file (and the function) it comes from, read in
``hoophq/hoop`` at ``HOOP_COMMIT``, so a reader can check it and a maintainer can re-read
it when Hoop moves. ``docs/replay-and-doctor.md`` lists them all.
"""

from __future__ import annotations

#: The commit of hoophq/hoop read for this package (2026-08-21), as for docs/hoop-runtime.md.
HOOP_COMMIT = "e939597dc425d78dbd146d98fad21b7171ccaaf5"
SHORT_COMMIT = HOOP_COMMIT[:9]

# The files, named once (path, the function or type read there).
HOOK_LOADER = "gateway/transport/extensions/runbookhook.go"  # getRunbookHookFiles(V2)
RUNBOOKS_MODEL = "gateway/models/runbooks.go"  # Runbooks.RepositoryConfigs, the demo default
RUNBOOKS_CONFIG = "common/runbooks/config.go"  # NewConfig, NewConfigV2: the TTL rules
RUNBOOKS_GIT = "common/runbooks/git.go"  # CloneRepositoryInMemory: master, main
RUNBOOKS_API = "gateway/api/runbooks/runbooksV2.go"  # GET /runbooks/configurations
RUNBOOKS_MIGRATION = "gateway/models/bootstrap/migrations/RunbooksV2.go"
PLUGINS_API = "gateway/api/plugins/plugin.go"  # GET /plugins/{name}
SESSION_API = "gateway/api/session/session.go"  # GET /sessions/{session_id}
SESSION_PARSER = "gateway/api/session/parser.go"  # toOpenApiSession, the event stream
SESSION_WAL = "gateway/transport/plugins/audit/wal.go"  # closeSessionWAL, encodeEventEntry
AUDIT_PLUGIN = "gateway/transport/plugins/audit/audit.go"  # OnReceive: the AI analyzer
AGENT_PACKETS = "gateway/transport/agent.go"  # buildErrorFromPacket
CLIENT_LOOP = "gateway/transport/client.go"  # listenClientMessages: plugins, then hooks
CONNECTIONS_API = "gateway/api/connections/connections.go"  # Get, ToOpenApi
CONNECTION_SECRETS = "gateway/api/connections/secrets.go"  # stripInlineSecrets
ORG_SETTINGS_API = "gateway/api/orgs/orgsettings.go"  # GET /orgs/hide-role-info
API_AUTH = "gateway/api/apiroutes/auth.go"  # AuthMiddleware: Bearer, Api-Key, hpk_
API_KEYS = "gateway/models/apikey.go"  # GetAPIKeyContext: user email = the key's name
API_ROUTES = "gateway/api/server.go"  # the role each route needs
OPENAPI = "gateway/api/openapi/openapiv3.json"  # the response shapes
OPENAPI_TYPES = "gateway/api/openapi/types.go"  # the Go types behind them
CLI_CONFIG = "client/config/config.go"  # Load: HOOP_APIURL, HOOP_TOKEN, config.toml
CLI_CONFIG_PATH = "common/clientconfig/clientconfig.go"  # ~/.hoop/config.toml
CLI_HTTP = "client/cmd/sessions.go"  # setSessionAuthHeaders
CLI_TLS = "common/httpclient/httpclient.go"  # NewHttpClient: tls_ca, HOOP_TLS_SKIP_VERIFY


def cite(path: str, symbol: str = "") -> str:
    """``path (symbol) @ commit``: how a finding or a note names its Hoop source."""
    where = f"{path} ({symbol})" if symbol else path
    return f"{where} @ {SHORT_COMMIT}"
