{{/*
Exactly the Kubernetes calls kubedriver makes (every one is in src/kube/*.ts),
and nothing else: no watch of anything but its own RCs, pods and HPAs, no
delete of namespaces, no pod creation (the ReplicationController controller
creates pods under its own identity).
One rule per resource, its comment naming the code that needs each verb; a new
call adds its verb here, with its reason, and to .ci/deploy-check.sh's allowed
list. The ClusterRole (rbac.scope "cluster") and each namespace's Role
(rbac.scope "namespaces") are this same list.
*/}}
{{- define "kubedriver.rbacRules" -}}
{{- $clusterWide := eq .Values.rbac.scope "cluster" -}}
# get: provisioning checks that each account namespace exists (and is not
# terminating), and every namespace health probe is a GET of the namespace
# (src/kube/namespaces.ts readNamespace, src/kube/namespace-probe.ts).
{{- if $clusterWide }}
# create: provisioning creates missing namespaces (namespaces.ts createNamespace).
{{- else }}
# In a Role, get allows the GET of that Role's namespace only; no create: the
# namespace exists before its Role does (rbac.scope "namespaces").
{{- end }}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get{{ if $clusterWide }}, create{{ end }}]
# Image pull secrets, kept in each account namespace (src/kube/secrets.ts via
# core/accounts/provision.ts): get, create, and update (a PUT with
# resourceVersion) when the registry credentials changed.
# Request records (core/requests/once.ts): create claims a request_id, get
# reads it, update records the result or takes over an abandoned one, delete
# frees a failed one; list by label finds the expired ones to delete.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, create, update, list, delete]
# Server groups are ReplicationControllers (src/kube/replication-controllers.ts):
# create (create/clone, a version claimed by create's AlreadyExists), get
# (get/enable/disable/destroy), list by label (the next free version, live
# reads, the interrupted-traffic sweep), watch by label (the live view,
# src/kube/reflector.ts), patch (JSON patch of the pod template's
# load-balancer labels and the traffic-change mark), delete (destroy,
# foreground cascade).
- apiGroups: [""]
  resources: [replicationcontrollers]
  verbs: [create, get, list, watch, patch, delete]
# Resize: a PUT to the scale subresource (replaceNamespacedReplicationControllerScale).
- apiGroups: [""]
  resources: [replicationcontrollers/scale]
  verbs: [update]
# get: one instance (src/kube/pods.ts readPod); list and watch: a server
# group's instances, by label (pods.ts listPods, the live view); patch:
# enable/disable and register/deregister flip load-balancer labels
# (pods.ts patchPod); delete: TerminateInstances (pods.ts deletePod, the RC
# replaces the pod).
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, patch, delete]
# GetInstanceLogs and its follow variant (src/kube/pod-logs.ts).
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
# Load balancers are Services (src/kube/services.ts): get and list (live reads,
# and the check that a server group's load balancers exist), create and
# update (UpsertLoadBalancer, a PUT with resourceVersion), delete
# (DeleteLoadBalancer, uid-conditional), watch (the live view:
# every Service of the namespace, src/core/load-balancers/live-view.ts).
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, update, delete]
# Autoscalers are HorizontalPodAutoscalers (src/kube/autoscalers.ts): get and
# list (server group reads), watch (the live view), create and update
# (UpsertAutoscaler, resize moving min/max, clone), delete (DeleteAutoscaler,
# destroy).
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, update, delete]
{{- end -}}
