"""Broadcasts: planning recipients into the outbox, rendering each delivery, reporting progress."""
