"""Running the server: the listening socket, uvicorn's configuration and protocols (timeouts,
the bound on connections), logging. Nothing here knows the API; cli.py wires it."""
