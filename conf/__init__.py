"""Hydra config groups, experiment presets and the typed schema every command validates."""
