"""RingCentral's official SDKs run against a real ringlet, changing nothing but the server URL."""
