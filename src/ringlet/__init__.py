"""ringlet: a self-hosted server for RingCentral's SMS and Pager messaging API."""

__version__ = "0.1.0"
