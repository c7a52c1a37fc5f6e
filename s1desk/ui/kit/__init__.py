"""Shared pieces for every feature: theme, banner, the problem bus, tasks, a throttle."""
