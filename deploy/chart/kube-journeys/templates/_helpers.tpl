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

{{/*
Provisioning's identity and the cluster-scoped names it uses (see `provisioning` in values.yaml).
*/}}
{{- define "kube-journeys.provisionerServiceAccountName" -}}
{{- printf "%s-provisioner" (include "kube-journeys.fullname" . | trunc 51 | trimSuffix "-") }}
{{- end }}

{{- define "kube-journeys.provisionerClusterRoleName" -}}
{{- printf "%s-%s-sandbox-provisioner" .Release.Namespace (include "kube-journeys.fullname" .) | trunc 253 | trimSuffix "-" }}
{{- end }}

{{- define "kube-journeys.sandboxGuardsPolicyName" -}}
{{- printf "%s-%s-sandbox-guards" .Release.Namespace (include "kube-journeys.fullname" .) | trunc 253 | trimSuffix "-" }}
{{- end }}

{{- define "kube-journeys.learnerClusterRoleName" -}}
{{- if .Values.provisioning.rbac.create }}
{{- printf "%s-%s-sandbox-learner" .Release.Namespace (include "kube-journeys.fullname" .) | trunc 253 | trimSuffix "-" }}
{{- else }}
{{- .Values.provisioning.learnerClusterRole }}
{{- end }}
{{- end }}

{{/* "true" when the provisioner is the Pod's own ServiceAccount rather than a mounted kubeconfig. */}}
{{- define "kube-journeys.provisionerInCluster" -}}
{{- if and .Values.provisioning.enabled (not .Values.provisioning.kubeconfigSecret) }}true{{ end }}
{{- end }}

{{/*
The web Pods' ServiceAccount: the provisioner's when it provisions from inside the cluster (a Pod
has one identity; the read-only ClusterRole is then bound to it as well), the chart's own otherwise.
*/}}
{{- define "kube-journeys.webServiceAccountName" -}}
{{- if include "kube-journeys.provisionerInCluster" . }}
{{- include "kube-journeys.provisionerServiceAccountName" . }}
{{- else }}
{{- include "kube-journeys.serviceAccountName" . }}
{{- end }}
{{- end }}

{{/*
The text before {username} in the namespace template: the admission policy lets the provisioner
touch only namespaces starting with it. It must survive the portal's clean-up of names (lowercase,
single hyphens) unchanged, or the policy would refuse the namespaces the portal asks for.
*/}}
{{- define "kube-journeys.sandboxPrefix" -}}
{{- $template := .Values.sandbox.namespaceTemplate }}
{{- if not (contains "{username}" $template) }}
{{- fail (printf "provisioning.enabled needs sandbox.namespaceTemplate with {username}, e.g. \"learn-{username}\" (it is %q): each learner gets a namespace of their own." $template) }}
{{- end }}
{{- $prefix := index (splitList "{username}" $template) 0 }}
{{- if gt (len (replace "{username}" "" $template)) 53 }}
{{- fail (printf "sandbox.namespaceTemplate leaves too little room for the username: a namespace name has at most 63 characters and %q takes %d of them without it; keep the fixed part to 53 or less." $template (len (replace "{username}" "" $template))) }}
{{- end }}
{{- if not (regexMatch "^[a-z0-9]+(-[a-z0-9]+)*-?$" $prefix) }}
{{- fail (printf "sandbox.namespaceTemplate must start with a fixed prefix of lowercase letters, digits and single hyphens before {username}, e.g. \"learn-{username}\" (the prefix is %q): the admission policy limits the provisioner to namespaces with that prefix." $prefix) }}
{{- end }}
{{- $prefix }}
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
{{- with .Values.provisioning }}
{{- range $name, $value := dict "provisioning.enabled" .enabled "provisioning.rbac.create" .rbac.create "provisioning.expiry.enabled" .expiry.enabled }}
{{- if not (kindIs "bool" $value) }}
{{- fail (printf "%s must be true or false, without quotes (it is %q): a quoted \"false\" would read as on." $name (toString $value)) }}
{{- end }}
{{- end }}
{{- if .enabled }}
{{- $_ := include "kube-journeys.sandboxPrefix" $ }}
{{- if not (has .podSecurity (list "privileged" "baseline" "restricted")) }}
{{- fail (printf "provisioning.podSecurity must be privileged, baseline or restricted, not %q." (toString .podSecurity)) }}
{{- end }}
{{- range $key := list "quota" "limits" }}
{{- if not (kindIs "map" (index $.Values.provisioning $key)) }}
{{- fail (printf "provisioning.%s must be a map of Kubernetes quantities (see values.yaml), or {} for the portal's defaults." $key) }}
{{- end }}
{{- end }}
{{- range $resource, $quantity := .quota }}
{{- if or (kindIs "map" $quantity) (kindIs "slice" $quantity) (kindIs "bool" $quantity) (kindIs "invalid" $quantity) }}
{{- fail (printf "provisioning.quota.%s must be a quantity such as \"40\" or \"4Gi\", not %s." $resource (toJson $quantity)) }}
{{- end }}
{{- end }}
{{- range $entry, $quantities := .limits }}
{{- if not (kindIs "map" $quantities) }}
{{- fail (printf "provisioning.limits.%s must be a map of quantities such as {cpu: 500m, memory: 256Mi}, not %s." $entry (toJson $quantities)) }}
{{- end }}
{{- end }}
{{- if not (regexMatch "^[0-9]+$" (toString .tokenSeconds)) }}
{{- fail (printf "provisioning.tokenSeconds must be a whole number of seconds from 600 to 4294967296, not %v." .tokenSeconds) }}
{{- end }}
{{- if or (lt (int64 .tokenSeconds) 600) (gt (int64 .tokenSeconds) 4294967296) }}
{{- fail (printf "provisioning.tokenSeconds must be from 600 to 4294967296 (the token lifetimes Kubernetes issues), not %v." .tokenSeconds) }}
{{- end }}
{{- if and .learnerServer (not (regexMatch "^https?://[^/\\s]+" (toString .learnerServer))) }}
{{- fail (printf "provisioning.learnerServer must be the API server's URL, such as https://k8s.example.com:6443, not %q." (toString .learnerServer)) }}
{{- end }}
{{- if and .kubeconfigSecret (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" (toString .kubeconfigSecret))) }}
{{- fail (printf "provisioning.kubeconfigSecret must be the name of a Secret (lowercase letters, digits, '-' and '.'), not %q." (toString .kubeconfigSecret)) }}
{{- end }}
{{- if and (not .kubeconfigSecret) (not $.Values.sandbox.inCluster) }}
{{- fail "provisioning.enabled without provisioning.kubeconfigSecret provisions with the chart's ServiceAccount in this cluster: set sandbox.inCluster=true so the checks read the same cluster." }}
{{- end }}
{{- if and (not .kubeconfigSecret) (not .rbac.create) }}
{{- fail "provisioning in this cluster uses the chart's provisioner ServiceAccount: keep provisioning.rbac.create=true, or give provisioning.kubeconfigSecret." }}
{{- end }}
{{- if and .kubeconfigSecret (not $.Values.sandbox.inCluster) (not $.Values.sandbox.kubeconfigSecret) }}
{{- fail "provisioning.enabled needs the checks to read the sandboxes: set sandbox.inCluster=true or sandbox.kubeconfigSecret." }}
{{- end }}
{{- if and (not .kubeconfigSecret) (not .learnerServer) }}
{{- fail "provisioning.learnerServer is required in the cluster: the API server address learners' kubectl reaches, e.g. https://k8s.example.com:6443." }}
{{- end }}
{{- if not .rbac.create }}
{{- if not .learnerClusterRole }}
{{- fail "provisioning.learnerClusterRole is required with provisioning.rbac.create=false: the ClusterRole bound in each sandbox." }}
{{- end }}
{{- end }}
{{- if .expiry.enabled }}
{{- if not (trim (toString .expiry.schedule)) }}
{{- fail "provisioning.expiry.schedule is empty: give a cron schedule such as \"43 4 * * *\", or set provisioning.expiry.enabled=false." }}
{{- end }}
{{- if or (not (regexMatch "^[0-9]+$" (toString .expiry.days))) (lt (int64 .expiry.days) 1) (gt (int64 .expiry.days) 36500) }}
{{- fail (printf "provisioning.expiry.days must be a whole number from 1 to 36500, not %v." .expiry.days) }}
{{- end }}
{{- include "kube-journeys.validateSchedule" (dict "name" "provisioning.expiry.schedule" "schedule" .expiry.schedule) }}
{{- if not (regexMatch "^[0-9]+$" (toString .expiry.startingDeadlineSeconds)) }}
{{- fail (printf "provisioning.expiry.startingDeadlineSeconds must be a whole number of seconds, 0 or more, not %v." .expiry.startingDeadlineSeconds) }}
{{- end }}
{{- if not (regexMatch "^[1-9][0-9]*$" (toString .expiry.activeDeadlineSeconds)) }}
{{- fail (printf "provisioning.expiry.activeDeadlineSeconds must be a whole number of seconds, 1 or more, not %v." .expiry.activeDeadlineSeconds) }}
{{- end }}
{{- end }}
{{- else if .expiry.enabled }}
{{- fail "provisioning.expiry.enabled needs provisioning.enabled: there are no sandboxes to expire." }}
{{- end }}
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

{{- define "kube-journeys.provisionerEnv" -}}
{{- if and .Values.provisioning.enabled .Values.provisioning.kubeconfigSecret }}
- name: SANDBOX_PROVISIONER_KUBECONFIG
  value: /etc/kube-journeys/provisioner/kubeconfig
{{- end }}
{{- end }}

{{- define "kube-journeys.provisionerVolume" -}}
{{- if and .Values.provisioning.enabled .Values.provisioning.kubeconfigSecret }}
- name: provisioner-kubeconfig
  secret:
    secretName: {{ .Values.provisioning.kubeconfigSecret }}
    defaultMode: 0440
    items:
      - key: kubeconfig
        path: kubeconfig
{{- end }}
{{- end }}

{{- define "kube-journeys.provisionerVolumeMount" -}}
{{- if and .Values.provisioning.enabled .Values.provisioning.kubeconfigSecret }}
- name: provisioner-kubeconfig
  mountPath: /etc/kube-journeys/provisioner
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

{{/*
A cron schedule as Kubernetes reads it: a macro (@daily) or five fields of numbers, ranges, steps,
lists and *, each number within its field's range. Names (MON, JAN) are left to the API server.
*/}}
{{- define "kube-journeys.validateSchedule" -}}
{{- $schedule := trim (toString .schedule) }}
{{- if not (has $schedule (list "@yearly" "@annually" "@monthly" "@weekly" "@daily" "@midnight" "@hourly")) }}
{{- $fields := regexSplit "\\s+" $schedule -1 }}
{{- if ne (len $fields) 5 }}
{{- fail (printf "%s must be a cron schedule of five fields, such as \"43 4 * * *\", or a macro such as @daily, not %q." .name $schedule) }}
{{- end }}
{{- $highest := list 59 23 31 12 7 }}
{{- $lowest := list 0 0 1 1 0 }}
{{- range $index, $field := $fields }}
{{- if not (regexMatch "^(\\*|[0-9]+(-[0-9]+)?|[A-Za-z]{3}(-[A-Za-z]{3})?)(/[0-9]+)?(,([0-9]+(-[0-9]+)?|[A-Za-z]{3}(-[A-Za-z]{3})?)(/[0-9]+)?)*$" $field) }}
{{- fail (printf "%s: %q is not a cron field (numbers, ranges such as 1-5, steps such as */15, lists, or *), in %q." $.name $field $schedule) }}
{{- end }}
{{- $withoutSteps := regexReplaceAll "/[0-9]+" $field "" }}
{{- range $number := regexFindAll "[0-9]+" $withoutSteps -1 }}
{{- if or (lt (atoi $number) (index $lowest $index)) (gt (atoi $number) (index $highest $index)) }}
{{- fail (printf "%s: %s is out of range in field %d of %q (it takes %d to %d)." $.name $number (add1 $index) $schedule (index $lowest $index) (index $highest $index)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
