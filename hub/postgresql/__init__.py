"""PostgreSQL through Django's backend, with a cheaper connection health check."""
