"""``dojo_exec.markdown``: the Python-Markdown extension that renders dojo steps.

Any generator built on Python-Markdown (MkDocs, Zensical) renders the same steps from the
same transcripts: list it under ``markdown_extensions:``::

    markdown_extensions:
      - dojo_exec.markdown:
          transcripts: transcripts   # relative to the config file's folder

The MkDocs plugin (:mod:`dojo_exec.mkdocs`) configures this extension and adds what only a
plugin can do; it renders nothing itself.
"""

from __future__ import annotations

from typing import Any

from dojo_exec.markdown.extension import DojoExtension


def makeExtension(**kwargs: Any) -> DojoExtension:
    """The entry point Python-Markdown calls for ``dojo_exec.markdown``."""
    return DojoExtension(**kwargs)


__all__ = ["DojoExtension", "makeExtension"]
