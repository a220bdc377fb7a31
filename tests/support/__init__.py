"""Helpers shared by more than one test package: fake activities, polling, test servers, status
builders, order factories, saga runs on a test server and the live stack of real processes.
A helper used by one package only lives next to that package's tests."""
