//go:build tools

// Package tools keeps the modules KWOK's binary needs in go.sum.
package tools

import _ "sigs.k8s.io/kwok/pkg/kwok/cmd"
