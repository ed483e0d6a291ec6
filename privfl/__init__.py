"""privfl: privacy-preserving federated learning (the console script lives here)."""
