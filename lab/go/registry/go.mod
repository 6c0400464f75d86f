// Wrapper module: the CNCF Distribution registry, for the registry mirror of the
// nightly's rehearsal (python -m mysqlsts.lab rehearse), built from the Go module proxy.
module lab.local/registry

go 1.26.0

require github.com/distribution/distribution/v3 v3.1.2
