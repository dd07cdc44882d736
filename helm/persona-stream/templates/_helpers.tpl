{{/* Names */}}

{{- define "persona-stream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/* Kept to 40 characters so role suffixes and StatefulSet pod names stay within Kubernetes' 63. */}}
{{- define "persona-stream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of a role's resources. Call with (dict "root" $ "component" "processor"). */}}
{{- define "persona-stream.componentName" -}}
{{- printf "%s-%s" (include "persona-stream.fullname" .root) .component }}
{{- end }}

{{- define "persona-stream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels. Call with (dict "root" $ "component" "processor"). */}}

{{- define "persona-stream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "persona-stream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "persona-stream.labels" -}}
helm.sh/chart: {{ include "persona-stream.chart" .root }}
{{ include "persona-stream.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: persona-stream
{{- end }}

{{/* Shared resources */}}

{{- define "persona-stream.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "persona-stream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "persona-stream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "persona-stream.secretName" -}}
{{- default (include "persona-stream.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "persona-stream.configMapName" -}}
{{- default (printf "%s-pipeline" (include "persona-stream.fullname" .)) .Values.pipeline.existingConfigMap }}
{{- end }}

{{/* The Secret's keys are the variable names persona-stream reads; values are the chart's secrets.* keys. */}}
{{- define "persona-stream.secretValues" -}}
STRIPE_API_KEY: {{ .Values.secrets.stripeApiKey | quote }}
STRIPE_WEBHOOK_SECRET: {{ .Values.secrets.stripeWebhookSecret | quote }}
SEGMENT_SHARED_SECRET: {{ .Values.secrets.segmentSharedSecret | quote }}
SEGMENT_WEBHOOK_BATCH_TOKEN: {{ .Values.secrets.segmentWebhookBatchToken | quote }}
SEGMENT_WRITE_KEYS: {{ .Values.secrets.segmentWriteKeys | quote }}
SEGMENT_TOKEN: {{ .Values.secrets.segmentToken | quote }}
MAVERA_API_KEY: {{ .Values.secrets.maveraApiKey | quote }}
KAFKA_SASL_PASSWORD: {{ .Values.secrets.kafkaSaslPassword | quote }}
SCHEMA_REGISTRY_PASSWORD: {{ .Values.secrets.schemaRegistryPassword | quote }}
{{- end }}

{{/*
Seconds Kubernetes waits between SIGTERM and SIGKILL: the drain budget (config.shutdownGraceMs, rounded up to whole
seconds) + 5 s of slack, + the preStop pause that runs before SIGTERM. Call with (dict "root" $ "preStop" N).
*/}}
{{- define "persona-stream.terminationGracePeriodSeconds" -}}
{{- $drainSeconds := div (add (int .root.Values.config.shutdownGraceMs) 999) 1000 }}
{{- add $drainSeconds 5 (int .preStop) }}
{{- end }}

{{/* Environment */}}

{{/* Variables every role reads. */}}
{{- define "persona-stream.commonEnv" -}}
- name: KAFKA_BROKERS
  value: {{ required "kafka.brokers is required: the Kafka bootstrap servers, comma-separated host:port" .Values.kafka.brokers | quote }}
- name: KAFKA_CLIENT_ID
  value: {{ .Values.kafka.clientId | quote }}
- name: KAFKA_TOPIC_PREFIX
  value: {{ .Values.kafka.topicPrefix | quote }}
- name: KAFKA_SSL
  value: {{ .Values.kafka.ssl | quote }}
{{- with .Values.kafka.sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ . | quote }}
{{- end }}
{{- with .Values.kafka.sasl.username }}
- name: KAFKA_SASL_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- with .Values.schemaRegistry.url }}
- name: SCHEMA_REGISTRY_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.schemaRegistry.username }}
- name: SCHEMA_REGISTRY_USERNAME
  value: {{ . | quote }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: METRICS_PORT
  value: {{ int .Values.config.metricsPort | quote }}
{{- /* The ops server answers the kubelet's probes and Prometheus on the pod IP only (config.metricsHost overrides). */}}
- name: METRICS_HOST
{{- if .Values.config.metricsHost }}
  value: {{ .Values.config.metricsHost | quote }}
{{- else }}
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- end }}
- name: SHUTDOWN_GRACE_MS
  value: {{ int .Values.config.shutdownGraceMs | quote }}
- name: MAX_EVENT_TIME_SKEW_MS
  value: {{ int .Values.config.maxEventTimeSkewMs | quote }}
- name: REPORTING_CURRENCY
  value: {{ .Values.config.reportingCurrency | lower | quote }}
- name: PIPELINE_CONFIG
  value: /etc/persona-stream/pipeline.yaml
{{- end }}

{{/*
Secret-backed variables, each optional (a key missing from the Secret leaves the variable unset, and persona-stream
says which one it needs). Call with (dict "root" $ "keys" (list "MAVERA_API_KEY" …)).
*/}}
{{- define "persona-stream.secretEnv" -}}
{{- $secretName := include "persona-stream.secretName" .root }}
{{- range .keys }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ . }}
      optional: true
{{- end }}
{{- end }}

{{/* Pods */}}

{{/* The image runs as uid 10001; fsGroup makes the state volume writable by it. */}}
{{- define "persona-stream.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "persona-stream.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod-level settings shared by every role. Call with (dict "root" $ "component" "processor"). */}}
{{- define "persona-stream.podSpecCommon" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "persona-stream.serviceAccountName" $root }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- include "persona-stream.podSecurityContext" $root | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if eq $root.Values.podAntiAffinityPreset "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "persona-stream.selectorLabels" . | nindent 14 }}
{{- else if eq $root.Values.podAntiAffinityPreset "hard" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "persona-stream.selectorLabels" . | nindent 12 }}
{{- end }}
{{- end }}

{{/* Pod metadata: labels, and checksums that roll the pods when the config or the Secret changes. */}}
{{- define "persona-stream.podMetadata" -}}
{{- $root := .root -}}
labels:
  {{- include "persona-stream.selectorLabels" . | nindent 2 }}
  {{- with $root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/pipeline: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
  checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
  {{- with $root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* Scratch space and the pipeline config: the root filesystem is read-only. */}}
{{- define "persona-stream.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: pipeline
  configMap:
    name: {{ include "persona-stream.configMapName" . }}
{{- end }}

{{- define "persona-stream.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: pipeline
  mountPath: /etc/persona-stream
  readOnly: true
{{- end }}

{{/* The Ingress paths, fixed by persona-stream's routes. Call with (dict "root" $ "stripe" NAME "segment" NAME). */}}
{{- define "persona-stream.ingressPaths" -}}
{{- if .root.Values.stripeConnector.enabled }}
- path: /webhooks/stripe
  pathType: Exact
  backend:
    service:
      name: {{ .stripe }}
      port:
        name: http
{{- end }}
{{- if .root.Values.segmentConnector.enabled }}
- path: /webhooks/segment
  pathType: Exact
  backend:
    service:
      name: {{ .segment }}
      port:
        name: http
- path: /v1
  pathType: Prefix
  backend:
    service:
      name: {{ .segment }}
      port:
        name: http
{{- end }}
{{- end }}

{{/* Checks between values that the JSON schema cannot express. */}}
{{- define "persona-stream.validate" -}}
{{- $secrets := .Values.secrets }}
{{- if not $secrets.existingSecret }}
{{- if and .Values.stripeConnector.enabled (not $secrets.stripeWebhookSecret) }}
{{- fail "stripeConnector is enabled: set secrets.stripeWebhookSecret (whsec_…) or secrets.existingSecret" }}
{{- end }}
{{- if and .Values.segmentConnector.enabled (not (or $secrets.segmentSharedSecret $secrets.segmentWriteKeys)) }}
{{- fail "segmentConnector is enabled: set secrets.segmentSharedSecret and/or secrets.segmentWriteKeys, or secrets.existingSecret" }}
{{- end }}
{{- if and .Values.kafka.sasl.mechanism (not $secrets.kafkaSaslPassword) }}
{{- fail "kafka.sasl.mechanism is set: set secrets.kafkaSaslPassword or secrets.existingSecret" }}
{{- end }}
{{- if and .Values.schemaRegistry.username (not $secrets.schemaRegistryPassword) }}
{{- fail "schemaRegistry.username is set: set secrets.schemaRegistryPassword or secrets.existingSecret" }}
{{- end }}
{{- end }}
{{- if and .Values.ingress.enabled (not (or .Values.stripeConnector.enabled .Values.segmentConnector.enabled)) }}
{{- fail "ingress.enabled needs stripeConnector or segmentConnector enabled: the Ingress only routes webhooks" }}
{{- end }}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.username) }}
{{- fail "kafka.sasl.mechanism is set: set kafka.sasl.username" }}
{{- end }}
{{- range $role := list "stripeConnector" "segmentConnector" "processor" }}
{{- $autoscaling := (index $.Values $role).autoscaling }}
{{- if $autoscaling.enabled }}
{{- if not $.Values.keda.prometheusServerAddress }}
{{- fail (printf "%s.autoscaling.enabled needs keda.prometheusServerAddress" $role) }}
{{- end }}
{{- if gt (int $autoscaling.minReplicas) (int $autoscaling.maxReplicas) }}
{{- fail (printf "%s.autoscaling.minReplicas must not exceed maxReplicas" $role) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
