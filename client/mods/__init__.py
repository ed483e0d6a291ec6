"""ClientApp mods (middleware around the handlers)."""
