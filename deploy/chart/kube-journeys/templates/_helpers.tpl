{{/*
Names are cut at 63 characters because some Kubernetes name fields are DNS labels.
*/}}
{{- define "kube-journeys.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
"<release>-kube-journeys", or just the release name when it already says kube-journeys, so
`helm install kube-journeys .` does not produce "kube-journeys-kube-journeys".
*/}}
{{- define "kube-journeys.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kube-journeys.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kube-journeys.labels" -}}
helm.sh/chart: {{ include "kube-journeys.chart" . }}
{{ include "kube-journeys.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kube-journeys
{{- end }}

{{/*
Selector labels never change after the first install (a Deployment's selector is immutable), so
they hold only the name and the instance; each workload adds its component.
*/}}
{{- define "kube-journeys.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-journeys.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels and selector labels of one component: call with (dict "ctx" $ "component" "web").
The component keeps the web Service from selecting the database Pod, which shares name and instance.
*/}}
{{- define "kube-journeys.componentLabels" -}}
{{ include "kube-journeys.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "kube-journeys.componentSelectorLabels" -}}
{{ include "kube-journeys.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "kube-journeys.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kube-journeys.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Cluster-scoped objects carry the namespace in their name so that releases of the same name in
two namespaces do not overwrite each other's ClusterRole.
*/}}
{{- define "kube-journeys.clusterRoleName" -}}
{{- printf "%s-%s-sandbox-reader" .Release.Namespace (include "kube-journeys.fullname" .) | trunc 253 | trimSuffix "-" }}
{{- end }}

{{- define "kube-journeys.configMapName" -}}
{{- include "kube-journeys.fullname" . }}
{{- end }}

{{- define "kube-journeys.secretName" -}}
{{- default (include "kube-journeys.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "kube-journeys.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "kube-journeys.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{/*
The database password lives in the postgresql Secret the chart renders, or in existingSecret.
*/}}
{{- define "kube-journeys.postgresql.secretName" -}}
{{- default (include "kube-journeys.postgresql.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "kube-journeys.redis.fullname" -}}
{{- printf "%s-redis" (include "kube-journeys.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{/*
"repository:tag" or "repository@digest". A missing or "latest" tag is refused: every node must run
the same code, and `helm rollback` must bring the old code back.
*/}}
{{- define "kube-journeys.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- $tag := default .Chart.AppVersion .Values.image.tag | toString }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must be a fixed version, not \"latest\"; leave it empty to use the chart's appVersion." }}
{{- end }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Any other image of the chart: call with (dict "image" .Values.postgresql.image "what" "postgresql.image").
*/}}
{{- define "kube-journeys.pinnedImage" -}}
{{- $tag := .image.tag | toString }}
{{- if or (not $tag) (eq $tag "latest") }}
{{- fail (printf "%s.tag must be a fixed version such as 15.14-alpine, not %q." .what $tag) }}
{{- end }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}

{{/*
The values that cannot work together fail the render with a message instead of a broken release.
*/}}
{{- define "kube-journeys.validate" -}}
{{- if and .Values.postgresql.enabled .Values.externalDatabase.url }}
{{- fail "Set postgresql.enabled=false when using externalDatabase.url: the portal uses one database." }}
{{- end }}
{{- if and (not .Values.existingSecret) (not .Values.postgresql.enabled) (not .Values.externalDatabase.url) }}
{{- fail "No database: keep postgresql.enabled=true, set externalDatabase.url, or give existingSecret with a DATABASE_URL. (SQLite cannot be shared by several replicas.)" }}
{{- end }}
{{- if and .Values.redis.enabled .Values.externalRedis.url }}
{{- fail "Set redis.enabled=false when using externalRedis.url." }}
{{- end }}
{{- if and .Values.sandbox.inCluster .Values.sandbox.kubeconfigSecret }}
{{- fail "sandbox.inCluster and sandbox.kubeconfigSecret exclude each other: the portal reads one cluster." }}
{{- end }}
{{- if and .Values.backup.enabled (not .Values.postgresql.enabled) (not .Values.externalDatabase.url) (not .Values.existingSecret) }}
{{- fail "backup.enabled needs a PostgreSQL database (postgresql.enabled or externalDatabase.url)." }}
{{- end }}
{{- end }}

{{/*
Environment every portal container gets: the ConfigMap and the Secret, plus the switches that
keep schema changes out of the web Pods. MIGRATE_ON_START is off because several replicas
migrating at once would race; the hook Job migrates once per install or upgrade.
*/}}
{{- define "kube-journeys.portalEnvFrom" -}}
- configMapRef:
    name: {{ include "kube-journeys.configMapName" . }}
- secretRef:
    name: {{ include "kube-journeys.secretName" . }}
{{- end }}

{{- define "kube-journeys.portalEnv" -}}
- name: MIGRATE_ON_START
  value: "false"
- name: LOAD_CURRICULUM_ON_START
  value: "false"
- name: TMPDIR
  value: /tmp
{{- end }}

{{- define "kube-journeys.sandboxEnv" -}}
{{- if .Values.sandbox.kubeconfigSecret }}
- name: SANDBOX_KUBECONFIG
  value: /etc/kube-journeys/sandbox/kubeconfig
{{- end }}
{{- end }}

{{- define "kube-journeys.sandboxVolume" -}}
{{- if .Values.sandbox.kubeconfigSecret }}
- name: sandbox-kubeconfig
  secret:
    secretName: {{ .Values.sandbox.kubeconfigSecret }}
    defaultMode: 0440
    items:
      - key: kubeconfig
        path: kubeconfig
{{- end }}
{{- end }}

{{- define "kube-journeys.sandboxVolumeMount" -}}
{{- if .Values.sandbox.kubeconfigSecret }}
- name: sandbox-kubeconfig
  mountPath: /etc/kube-journeys/sandbox
  readOnly: true
{{- end }}
{{- end }}

{{/*
Host names Django answers to. "localhost" is the Host header the probes send (a kubelet would
otherwise send the Pod IP, which is not known when this is rendered).
*/}}
{{- define "kube-journeys.allowedHosts" -}}
{{- $hosts := list "localhost" }}
{{- if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- $hosts = append $hosts .host }}
{{- end }}
{{- end }}
{{- $hosts = concat $hosts .Values.config.allowedHosts }}
{{- $hosts | uniq | join "," }}
{{- end }}

{{- define "kube-journeys.csrfTrustedOrigins" -}}
{{- $origins := list }}
{{- if .Values.ingress.enabled }}
{{- $tlsHosts := list }}
{{- range .Values.ingress.tls }}
{{- $tlsHosts = concat $tlsHosts (.hosts | default list) }}
{{- end }}
{{- range .Values.ingress.hosts }}
{{- $scheme := ternary "https" "http" (or $.Values.config.https (has .host $tlsHosts)) }}
{{- $origins = append $origins (printf "%s://%s" $scheme .host) }}
{{- end }}
{{- end }}
{{- $origins = concat $origins .Values.config.csrfTrustedOrigins }}
{{- $origins | uniq | join "," }}
{{- end }}

{{- define "kube-journeys.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- printf "redis://%s:6379/0" (include "kube-journeys.redis.fullname" .) }}
{{- else }}
{{- .Values.externalRedis.url }}
{{- end }}
{{- end }}
