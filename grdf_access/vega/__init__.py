"""VEGA change calendar and publication watch: GRDF's OMEGA→VEGA flux and web-service changes."""
