SYSLOG_HOST = os.environ.get("SYSLOG_HOST", "")  # required: the collector's host name
SYSLOG_PORT = int(os.environ.get("SYSLOG_PORT", "6514"))  # 6514: syslog over TLS (RFC 5425)
SYSLOG_TLS = os.environ.get("SYSLOG_TLS", "1") != "0"  # "0": plain TCP (a trusted network only)
SYSLOG_CA_FILE = os.environ.get("SYSLOG_CA_FILE", "")  # PEM CA bundle; empty: the system's CAs
SYSLOG_FACILITY = int(os.environ.get("SYSLOG_FACILITY", "13"))  # 13: log audit (RFC 5424 6.2.1)
