"""Shared by both envs' test runs: keep imports to the standard library and pytest."""
