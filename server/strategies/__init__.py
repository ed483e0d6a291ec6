"""Flower strategies by name, and privfl's strategy decorators."""
