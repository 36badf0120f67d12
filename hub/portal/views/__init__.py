"""Portal views, one module per page family."""
