"""Inbound market signals for the BACS: the supplier price/CO2 signal (Annex 2), RTE Ecowatt."""
