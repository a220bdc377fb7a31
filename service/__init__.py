"""Process wiring shared by the worker, the CLIs and the tests: settings, logging, Temporal client."""
