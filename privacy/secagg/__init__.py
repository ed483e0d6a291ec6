"""SecAgg+ building blocks: secret sharing, key agreement, masks, quantisation (no Flower)."""
