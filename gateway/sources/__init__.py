"""Configured sources: admin configuration, the connectors built from it and from the
settings (the only place that names a particular connector), the one poller, inbound
webhooks, and the publishers built from the same configuration."""
