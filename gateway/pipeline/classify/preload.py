"""Imported once by the classification workers' fork server (``pool.py``): the classifier's
modules and lingua's language models are loaded here, before any worker is forked, so the
workers share them (copy-on-write) instead of loading them each (about 2.5 s of CPU and
270 MB per process)."""

from __future__ import annotations

from gateway.pipeline.classify.language import load_models

load_models()
