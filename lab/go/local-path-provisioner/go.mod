// Wrapper module pinning rancher's local-path-provisioner (built as the main package of
// github.com/rancher/local-path-provisioner): the lab's default StorageClass, as kind's.
module lab.local/local-path-provisioner

go 1.24

require github.com/rancher/local-path-provisioner v0.0.30
