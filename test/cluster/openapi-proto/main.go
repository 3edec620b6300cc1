// Command openapi-proto encodes an OpenAPI v2 document (JSON on stdin) as the
// protobuf kube-apiserver serves for
// application/com.github.proto-openapi.spec.v2@v1.0+protobuf, with the very
// function it uses, at the version this module pins
// (src/emulator/generated/regenerate.sh).
package main

import (
	"io"
	"log"
	"os"

	"k8s.io/kube-openapi/pkg/handler"
)

func main() {
	json, err := io.ReadAll(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	proto, err := handler.ToProtoBinary(json)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stdout.Write(proto); err != nil {
		log.Fatal(err)
	}
}
