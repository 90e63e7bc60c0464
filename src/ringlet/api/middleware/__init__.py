"""HTTP conventions that hold for every request, whatever the route: pure ASGI layers that
`api/app.py` stacks around the router (the order and why: `stack.py`).

Nothing is imported here on purpose: `api/errors.py` reads the request id from
`request_id.py`, and the layers that answer errors import `api/errors.py`; importing them all
from the package would make that a cycle.
"""
