{{/*
Exactly the Kubernetes calls kubedriver makes (every one is in src/kube/*.ts),
and nothing else: no watch, no delete of namespaces, no pod creation (the
ReplicationController controller creates pods under its own identity).
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
# Destroy tombstones (core/server-groups/destroy.ts): get and create one per
# destroy request id, list by label and delete the expired ones.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, create, update, list, delete]
# Server groups are ReplicationControllers (src/kube/replication-controllers.ts):
# create (create/clone, a version claimed by create's AlreadyExists), get
# (get/enable/disable/destroy), list by label (list, and the next free version),
# patch (JSON patch of the pod template's load-balancer labels and of the
# last-request annotation on enable/disable), delete (destroy, foreground cascade).
- apiGroups: [""]
  resources: [replicationcontrollers]
  verbs: [create, get, list, patch, delete]
# Resize: a PUT to the scale subresource (replaceNamespacedReplicationControllerScale).
- apiGroups: [""]
  resources: [replicationcontrollers/scale]
  verbs: [update]
# list: a server group's instances, by label (src/kube/pods.ts listPods).
# patch: enable/disable flip each pod's load-balancer labels (pods.ts patchPod).
- apiGroups: [""]
  resources: [pods]
  verbs: [list, patch]
# get: create/clone check that every load balancer named exists as a Service
# (src/kube/services.ts readService). Services themselves are not managed.
- apiGroups: [""]
  resources: [services]
  verbs: [get]
{{- end -}}
