// Wrapper module: etcd's own go.mod has replace directives, so `go install` refuses it.
module lab.local/etcd

go 1.24

require go.etcd.io/etcd/server/v3 v3.6.5
