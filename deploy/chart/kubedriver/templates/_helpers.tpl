{{/* The release's full name: the release name, with the chart's in front unless it already holds it. */}}
{{- define "kubedriver.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Chart.Name .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* What selects this release's pods: the Deployment, Service, PDB and topology spread. */}}
{{- define "kubedriver.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubedriver.labels" -}}
{{ include "kubedriver.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kubedriver.serviceAccountName" -}}
{{- default (include "kubedriver.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* Where the pod mounts what; the config names the same paths. */}}
{{- define "kubedriver.configDir" -}}/etc/kubedriver/config{{- end -}}
{{- define "kubedriver.tlsDir" -}}/etc/kubedriver/tls{{- end -}}
{{- define "kubedriver.credentialsDir" -}}/etc/kubedriver/credentials{{- end -}}

{{/* Refuses values that would render a config, pod and Service that disagree (types and names: values.schema.json). */}}
{{- define "kubedriver.validate" -}}
{{- if hasKey .Values.config "server" -}}
{{- fail "config.server: the chart writes the server block itself; use server.port, server.healthPort, metrics.*, tls.* and auth.tokens instead" -}}
{{- end -}}
{{- if eq .Values.rbac.scope "namespaces" -}}
{{- if empty .Values.rbac.namespaces -}}
{{- fail "rbac.namespaces: empty, but rbac.scope is \"namespaces\": list the namespaces kubedriver works in" -}}
{{- end -}}
{{- /* The in-cluster account works with this release's RBAC; another cluster's accounts do not. */ -}}
{{- range (dig "kubernetes" "accounts" list .Values.config) -}}
{{- if eq (default "" .kubeconfigFile) "kubeconfig" -}}
{{- $account := .name -}}
{{- range (default list .namespaces) -}}
{{- if not (has . $.Values.rbac.namespaces) -}}
{{- fail (printf "rbac.namespaces: lacks %q, a namespace of account %q (rbac.scope \"namespaces\" grants nothing outside the list)" . $account) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) -}}
{{- fail "metrics.serviceMonitor.enabled: needs metrics.enabled" -}}
{{- end -}}
{{- $ports := list (int .Values.server.port) (int .Values.server.healthPort) -}}
{{- if .Values.metrics.enabled -}}{{- $ports = append $ports (int .Values.metrics.port) -}}{{- end -}}
{{- if ne (len $ports) (len (uniq $ports)) -}}
{{- fail (printf "server.port, server.healthPort and metrics.port must differ: %v" $ports) -}}
{{- end -}}
{{- if and .Values.tls.create (or (empty .Values.tls.cert) (empty .Values.tls.key)) -}}
{{- fail "tls.create: needs tls.cert and tls.key (e.g. --set-file tls.cert=server.crt --set-file tls.key=server.key)" -}}
{{- end -}}
{{- if and .Values.credentials.create .Values.auth.tokens (empty .Values.credentials.tokens) -}}
{{- fail "credentials.tokens: empty, but credentials.create and auth.tokens are on: list the callers' {token, name, groups}" -}}
{{- end -}}
{{- end -}}
