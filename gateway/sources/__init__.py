"""Configured sources: admin configuration, secrets, the poll scheduler, inbound webhooks,
and the publishers built from the same configuration."""
