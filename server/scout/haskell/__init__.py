"""haskell layer: see ARCHITECTURE.md."""
