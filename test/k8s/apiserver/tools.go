//go:build tools

// Package tools pins the upstream commands built by test/k8s/install.mjs:
//   go build -o <cache>/kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
