"""Tests of the activities: the HTTP client and error mapping, each class against the sandbox."""
