"""Cluster providers: a fresh kind cluster, or an existing cluster borrowed and given back."""
