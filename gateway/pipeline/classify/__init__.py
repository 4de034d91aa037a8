"""Classify a mention on ingest: language, sentiment, intent, addressed-to-brand, opt-out.

One entry point, ``Classifier`` (``classifier.py``); one module per concern beside it.
``ClassifyPool`` (``pool.py``) runs large batches across cores in worker processes.
"""

from gateway.pipeline.classify.classifier import Classifier, ClassifyItem
from gateway.pipeline.classify.pool import ClassifyPool

__all__ = ["Classifier", "ClassifyItem", "ClassifyPool"]
