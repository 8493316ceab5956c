"""Security and privacy plumbing: response headers, retention purge, the audit-log page."""
