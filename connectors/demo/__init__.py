"""The demo channel: a source of realistic Acme mentions and a publisher that records."""

from connectors.demo.publisher import DemoPublisher, SentReply
from connectors.demo.source import DemoSource

__all__ = ["DemoPublisher", "DemoSource", "SentReply"]
