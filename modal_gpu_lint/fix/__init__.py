"""How a fix changes a tree and a file: overlap-safe application, text edits, atomic writes."""
