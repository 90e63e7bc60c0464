"""The WebSocket gateway (facts 13.4): `wss://.../ws` on ringlet's own port, its frames,
REST-over-WebSocket, sessions with recovery, and the delivery of WebSocket notifications."""
