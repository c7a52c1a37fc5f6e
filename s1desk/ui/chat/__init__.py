"""The chat: composer, transcript, reasoning pane, budget control, and what they show."""
