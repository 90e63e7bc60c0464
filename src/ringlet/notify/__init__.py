"""Notifications: subscriptions, their event filters, the dispatcher that fans committed
outbox events out to them, and the WebHook transport (the WebSocket gateway plugs in through
websocket_sink.py)."""
