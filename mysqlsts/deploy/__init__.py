"""What changes the cluster for a run: the manifests applied (and removed), the PV
directories prepared on the nodes."""
