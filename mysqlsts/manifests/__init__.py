"""What is deployed: the manifests' source, the suite's visible transformations, the model
every test asks, applying and removing them, the local PV directories on the node."""
