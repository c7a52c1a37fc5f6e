"""The Models window: the catalog with fit advice, downloads, local files."""
