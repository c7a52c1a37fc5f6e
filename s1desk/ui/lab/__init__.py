"""The Scaling view: budget sweeps on the window's backend, drawn as they run."""
