"""The ``dojo_exec`` MkDocs plugin: steps rendered with their promise, capture and verdict."""
