"""The messaging rules (R1-R15 of DESIGN.md) as pure functions over plain objects: no I/O here."""
