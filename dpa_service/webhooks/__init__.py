"""Webhooks to the Klusaro app: events, endpoints, signed deliveries with retries."""
