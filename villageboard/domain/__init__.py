"""Plain dataclasses, rules and validation: no I/O and no UI."""
