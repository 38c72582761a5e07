"""explore layer: see ARCHITECTURE.md."""
