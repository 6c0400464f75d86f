"""Talking to Kubernetes: the API client, reading objects, events, node affinity, and the
one runner of short-lived pods."""
