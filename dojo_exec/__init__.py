"""dojo_exec: run every shell step of a Markdown tutorial, check it, record it, publish it."""

__version__ = "0.1.0"
