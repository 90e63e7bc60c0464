"""The carrier side of SMS: what happens to an SMS sent to a handset (a number no extension on
this server owns). `gateway.py` is the interface; `simulator.py` the built-in carrier;
`http_gateway.py` forwards to an HTTP endpoint of the user's choosing; `worker.py` hands queued
SMS to the gateway in the background."""
