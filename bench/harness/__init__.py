"""The pieces of ``bench/run.py``: a PostgreSQL cluster, pgbench, an echo server, a load
generator (wrk or a Python one in its own process), a webhook receiver, the gateway's
processes with an RSS sampler, and the in-process measurements (policy, impact, verify)."""
