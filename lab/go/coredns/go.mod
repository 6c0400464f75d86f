// Wrapper module pinning CoreDNS (built as the main package of github.com/coredns/coredns).
module lab.local/coredns

go 1.24

require github.com/coredns/coredns v1.12.1
