"""The embedded engine (the default): the project's thread pool over a SQLite journal and result
files in the results folder; no server needed. `engine` is the entry, the rest are its parts."""
