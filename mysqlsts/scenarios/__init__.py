"""What checks share: scratch data, the acknowledged-write ledger, pod identity, clone
traces, pod ordering, and the way back after a disturbance."""
