"""The main window: layout and wiring of the feature packages, its actions and settings."""
