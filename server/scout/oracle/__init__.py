"""oracle layer: see ARCHITECTURE.md."""
