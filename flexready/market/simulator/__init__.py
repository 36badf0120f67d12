"""In-process fakes of RTE Ecowatt and of a supplier's signal API, mounted under /sim/flexready/."""
