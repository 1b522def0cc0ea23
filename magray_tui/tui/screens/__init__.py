"""Modal screens: the memory editor and F1 help."""
