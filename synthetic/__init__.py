"""Synthetic copies of a site's table: SDV synthesizers and DP MST, metadata hygiene,
quality and privacy reports, and the release gate (``privfl synth``; docs/synthetic.md).

Never imports Flower: usable and testable without a federation.
"""
