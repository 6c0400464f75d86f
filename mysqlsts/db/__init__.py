"""MySQL: connections to the pods, the one reader of replication state, server facts."""
