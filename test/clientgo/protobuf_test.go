// A client-go typed clientset that speaks only protobuf, as controllers built
// on client-go or controller-runtime do for built-in kinds: create a namespace
// and an RC, watch its pods come up, scale it, delete it. Runs against the
// kubeconfig in KUBEDRIVER_CLIENTGO_KUBECONFIG (run.sh sets it to the
// emulator's, or to a real control plane's).
package clientgo

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func TestProtobufClientset(t *testing.T) {
	path := os.Getenv("KUBEDRIVER_CLIENTGO_KUBECONFIG")
	if path == "" {
		t.Fatal("KUBEDRIVER_CLIENTGO_KUBECONFIG must name a kubeconfig (see run.sh)")
	}
	config, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	// Protobuf only, no JSON fallback: a server that cannot answer in protobuf fails the test.
	config.ContentType = "application/vnd.kubernetes.protobuf"
	config.AcceptContentTypes = "application/vnd.kubernetes.protobuf"
	client := kubernetes.NewForConfigOrDie(config)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	ns, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "clientgo-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	if ns.Status.Phase != corev1.NamespaceActive || ns.UID == "" || ns.CreationTimestamp.IsZero() {
		t.Fatalf("created namespace: phase %q, uid %q, created %v", ns.Status.Phase, ns.UID, ns.CreationTimestamp)
	}

	labels := map[string]string{"app": "web"}
	replicas := int32(2)
	rc, err := client.CoreV1().ReplicationControllers(ns.Name).Create(ctx, &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: &replicas,
			Selector: labels,
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "web",
					Image: "registry.example.com/web:1.0",
					Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create rc: %v", err)
	}
	if rc.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || rc.Spec.Template.Spec.Containers[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Fatalf("rc not defaulted: restartPolicy %q, protocol %q", rc.Spec.Template.Spec.RestartPolicy, rc.Spec.Template.Spec.Containers[0].Ports[0].Protocol)
	}

	pods, err := client.CoreV1().Pods(ns.Name).Watch(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("watch pods: %v", err)
	}
	defer pods.Stop()
	ready := map[string]bool{}
	waitReady := func(want int) {
		t.Helper()
		for count(ready) != want {
			select {
			case e, ok := <-pods.ResultChan():
				if !ok {
					t.Fatalf("pod watch ended with %d of %d pods ready", count(ready), want)
				}
				pod, isPod := e.Object.(*corev1.Pod)
				if !isPod {
					t.Fatalf("pod watch: %s %T", e.Type, e.Object)
				}
				ready[pod.Name] = e.Type != watch.Deleted && podReady(pod)
			case <-ctx.Done():
				t.Fatalf("%d of %d pods ready before the deadline", count(ready), want)
			}
		}
	}
	waitReady(2)

	scale, err := client.CoreV1().ReplicationControllers(ns.Name).GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	if scale.Spec.Replicas != 2 {
		t.Fatalf("scale: %d replicas, want 2", scale.Spec.Replicas)
	}
	scale.Spec.Replicas = 3
	scale.ResourceVersion = ""
	if _, err := client.CoreV1().ReplicationControllers(ns.Name).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update scale: %v", err)
	}
	waitReady(3)

	background := metav1.DeletePropagationBackground
	if err := client.CoreV1().ReplicationControllers(ns.Name).Delete(ctx, "web", metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
		t.Fatalf("delete rc: %v", err)
	}
	waitReady(0)
	if _, err := client.CoreV1().ReplicationControllers(ns.Name).Get(ctx, "web", metav1.GetOptions{}); err == nil {
		t.Fatal("the rc is still there after its delete")
	}
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func count(ready map[string]bool) int {
	n := 0
	for _, r := range ready {
		if r {
			n++
		}
	}
	return n
}
