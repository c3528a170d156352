"""smx: a Slack assistant for marketing teams."""

__version__ = "0.1.0"
