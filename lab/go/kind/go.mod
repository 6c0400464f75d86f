// Wrapper module pinning kind.
module lab.local/kind

go 1.24

require sigs.k8s.io/kind v0.31.0
