"""Differentially private synthetic data: MST (``mst.fit_sample_mst``) on mbi, accounted
in the site's ledger (``accounting``). Modules are imported directly: importing
``accounting`` does not load jax."""
