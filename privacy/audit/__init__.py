"""Empirical privacy audit: the one-run canary audit of Steinke, Nasr and Jagielski (2023).

``bound`` turns correct membership guesses into an ε lower bound, ``canaries`` draws the
canaries and their inclusion coins, ``scoring`` is the black-box loss attack, ``runner``
puts them around a training function the caller passes in (privacy/ imports no task or
Flower code), ``report`` writes ``audit.json`` and the printed line. See docs/audit.md.
"""
