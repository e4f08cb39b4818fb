"""Local fakes of the providers, for dev and tests."""
