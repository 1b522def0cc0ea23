"""The panes of the main screen; `registry.PANES` lists them in tab order (keys 1–9)."""
