"""The `mlscope` command line."""
