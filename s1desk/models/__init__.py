"""Model files: reading GGUF headers, the catalog, downloads (no Qt)."""
