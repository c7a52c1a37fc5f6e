"""Backends in the window: the selector, the Remote servers dialog, the model loader."""
