"""The language server: thin handlers over ``scout.session`` (see docs/protocol.md)."""
