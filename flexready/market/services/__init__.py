"""Use cases of the market signals: ``supplier`` (Annex 2) and ``ecowatt`` (RTE)."""
