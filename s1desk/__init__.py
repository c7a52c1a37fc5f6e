"""s1desk: a desktop chat application for the s1 reasoning model."""

__version__ = "0.1.0"
