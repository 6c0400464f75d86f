"""Conformance suite for a MySQL master-replica StatefulSet on Kubernetes."""
