"""Saved conversations: the sidebar (list, search, trash), export and import."""
