"""Tools that work on the user's workspace: list, search, read, edit, and a read-only git view.

Every path goes through ``paths.Workspace`` (confinement, refusals by rule); every write goes
through ``changes.apply`` (conflict check, atomic per file).
"""
