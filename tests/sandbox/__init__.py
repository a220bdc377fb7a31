"""Tests of the sandbox platform: scenario maths, HTTP contract, persistence, CLI."""
