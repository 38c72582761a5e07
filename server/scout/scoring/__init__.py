"""scoring layer: see ARCHITECTURE.md."""
