// Command kubedriver-client walks through kubedriver's gRPC API from Go: it
// creates a load balancer, deploys a server group behind it and waits until
// it is up, lists it, reads namespace health rounds, then destroys the group,
// waits until it is gone and deletes the load balancer.
//
// Stubs come from ./generate.sh (buf with protoc-gen-go and protoc-gen-go-grpc).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	kubedriverv1 "example.com/kubedriver-client/gen/kubedriver/v1"
)

func main() {
	addr := flag.String("addr", env("KUBEDRIVER_ADDR", "127.0.0.1:7002"), "kubedriver address, HOST:PORT")
	caFile := flag.String("ca-file", env("KUBEDRIVER_CA_FILE", ""), "CA certificate (PEM) to verify the server with; default: the system's")
	token := flag.String("token", env("KUBEDRIVER_TOKEN", ""), "bearer token (prefer $KUBEDRIVER_TOKEN: flags show in ps)")
	account := flag.String("account", env("KUBEDRIVER_ACCOUNT", "demo"), "Kubernetes account")
	namespace := flag.String("namespace", env("KUBEDRIVER_NAMESPACE", "demo"), "namespace")
	flag.Parse()
	log.SetFlags(0)
	log.SetOutput(os.Stdout) // one line per step, then the error if any
	log.SetPrefix("go client: ")

	creds := credentials.NewTLS(&tls.Config{})
	if *caFile != "" {
		var err error
		if creds, err = credentials.NewClientTLSFromFile(*caFile, ""); err != nil {
			log.Fatalf("reading CA file: %v", err)
		}
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if *token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerToken(*token)))
	}
	conn, err := grpc.NewClient(*addr, opts...)
	if err != nil {
		log.Fatalf("connecting to %s: %v", *addr, err)
	}
	defer conn.Close()

	if err := run(conn, *account, *namespace); err != nil {
		log.Fatal(err)
	}
}

func run(conn *grpc.ClientConn, account, namespace string) error {
	groups := kubedriverv1.NewServerGroupsClient(conn)
	health := kubedriverv1.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	lbs := kubedriverv1.NewLoadBalancersClient(conn)
	if _, err := lbs.UpsertLoadBalancer(ctx, &kubedriverv1.UpsertLoadBalancerRequest{
		Account: account, Namespace: namespace, Name: "example",
		Ports: []*kubedriverv1.ServicePort{{Name: "http", Port: 80, TargetPort: 80}},
	}); err != nil {
		return fmt.Errorf("UpsertLoadBalancer: %w", err)
	}
	log.Printf("load balancer example (a Service) in %s/%s", account, namespace)

	created, err := groups.CreateServerGroup(ctx, &kubedriverv1.CreateServerGroupRequest{
		Account:       account,
		Namespace:     namespace,
		Application:   "example",
		TargetSize:    1,
		LoadBalancers: []string{"example"},
		Containers:    []*kubedriverv1.Container{{Name: "web", Image: "nginx:1.27"}},
	})
	if err != nil {
		return fmt.Errorf("CreateServerGroup: %w", err)
	}
	name := created.GetServerGroup().GetName()
	log.Printf("created server group %s in %s/%s", name, account, namespace)

	// No polling: kubedriver answers once its watch of the namespace sees the group up.
	up, err := groups.WaitForServerGroup(ctx, &kubedriverv1.WaitForServerGroupRequest{
		Account: account, Namespace: namespace, Name: name, Condition: kubedriverv1.WaitCondition_WAIT_CONDITION_UP,
	})
	if err != nil {
		return fmt.Errorf("WaitForServerGroup UP: %w", err)
	}
	serving := 0
	for _, i := range up.GetServerGroup().GetInstances() {
		if i.GetServing() {
			serving++
		}
	}
	log.Printf("server group %s is up: %d instance(s) serving", name, serving)

	list, err := groups.ListServerGroups(ctx, &kubedriverv1.ListServerGroupsRequest{
		Account: account, Namespaces: []string{namespace}, Application: "example",
	})
	if err != nil {
		return fmt.Errorf("ListServerGroups: %w", err)
	}
	var names []string
	for _, g := range list.GetServerGroups() {
		names = append(names, g.GetName())
	}
	log.Printf("listed server groups of application example: %v", names)
	if !slices.Contains(names, name) {
		return fmt.Errorf("ListServerGroups: %s is not listed", name)
	}

	if err := watchRounds(ctx, health, account, 2); err != nil {
		return fmt.Errorf("WatchNamespaces: %w", err)
	}

	if _, err := groups.DestroyServerGroup(ctx, &kubedriverv1.DestroyServerGroupRequest{
		Account: account, Namespace: namespace, Name: name,
	}); err != nil {
		return fmt.Errorf("DestroyServerGroup: %w", err)
	}
	log.Printf("destroyed server group %s", name)

	// Deletion cascades to the pods first; on a real cluster that takes a moment.
	if _, err := groups.WaitForServerGroup(ctx, &kubedriverv1.WaitForServerGroupRequest{
		Account: account, Namespace: namespace, Name: name, Condition: kubedriverv1.WaitCondition_WAIT_CONDITION_DESTROYED,
	}); err != nil {
		return fmt.Errorf("WaitForServerGroup DESTROYED: %w", err)
	}
	log.Printf("server group %s is gone", name)
	if _, err := lbs.DeleteLoadBalancer(ctx, &kubedriverv1.DeleteLoadBalancerRequest{
		Account: account, Namespace: namespace, Name: "example",
	}); err != nil {
		return fmt.Errorf("DeleteLoadBalancer: %w", err)
	}
	log.Printf("deleted load balancer example")
	return nil
}

// watchRounds reads n namespace-health rounds of one account, then cancels the stream.
func watchRounds(ctx context.Context, health kubedriverv1.HealthClient, account string, n int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := health.WatchNamespaces(ctx, &kubedriverv1.WatchNamespacesRequest{Accounts: []string{account}})
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return errors.New("stream ended early")
		} else if err != nil {
			return err
		}
		round := msg.GetRound()
		reachable := 0
		for _, p := range round.GetProbes() {
			if p.GetReachable() {
				reachable++
			}
		}
		log.Printf("health round %d: %d of %d namespaces reachable", round.GetNumber(), reachable, len(round.GetProbes()))
	}
	return nil
}

// bearerToken sends "authorization: Bearer <token>" with every call, and only over TLS.
type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return true }

func env(key, fallback string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return fallback
}
