"""Bot API method handlers, one module per area; `table.py` lists them by name."""
