"""Notifications: subscriptions and their delivery."""
