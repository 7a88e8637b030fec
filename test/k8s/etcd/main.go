// Command etcd is upstream etcd's server (go.etcd.io/etcd/server/v3/etcdmain), built from the
// Go module proxy by test/k8s/install.mjs for the end-to-end tests' real kube-apiserver.
// Debian's etcd-server is 3.4, older than Kubernetes 1.34 supports.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
