"""The audit log: host and co-host actions, recording access and sign-ins, kept for ``API_AUDIT_RETENTION_DAYS``."""
