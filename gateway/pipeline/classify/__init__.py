"""Classify a mention on ingest: language, sentiment, intent, addressed-to-brand, opt-out.

One entry point, ``Classifier`` (``classifier.py``); one module per concern beside it.
"""

from gateway.pipeline.classify.classifier import Classifier, ClassifyItem

__all__ = ["Classifier", "ClassifyItem"]
