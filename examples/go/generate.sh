#!/usr/bin/env bash
# Generates the Go stubs into gen/ from ../../proto with buf, using
# protoc-gen-go and protoc-gen-go-grpc built at the versions pinned in go.mod
# (tool directives) into .bin/. Needs Go and the repository's `npm ci` (buf).
set -euo pipefail
cd "$(dirname "$0")"
go build -o .bin/ google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc
npx --no-install buf generate
