"""Use cases: each public coroutine is one operation in one transaction."""
