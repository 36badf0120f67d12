"""The market's clients: RTE Ecowatt v5 and the supplier signal (Flex Ready Annex 2)."""
