"""Developer tools run by make targets (not part of the service)."""
