{{/*
All resources of one connector instance. Arg: (dict "root" $ "instance" $instance).
*/}}
{{- define "rds-connector-lib.instance" -}}
{{- $root := .root -}}
{{- $i := .instance -}}
{{- $v := $root.Values -}}
{{- $ctx := dict "root" $root "instance" $i -}}
{{- $o := $i.oauthClient }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $i.name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.labels" $ctx | nindent 4 }}
data:
  {{- range $k, $val := $i.config }}
  {{- if not (eq (toString $val) "") }}
  {{ $k }}: {{ toString $val | quote }}
  {{- end }}
  {{- end }}
{{- if and $o (not $o.fromExistingSecret) }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "rds-connector-lib.secretName" $ctx }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.labels" $ctx | nindent 4 }}
type: Opaque
data:
  {{ $o.clientIdKey }}: {{ required (printf "%s: oauthClient.clientId is required when fromExistingSecret is false" $i.name) $o.clientId | b64enc | quote }}
  {{ $o.clientSecretKey }}: {{ required (printf "%s: oauthClient.clientSecret is required when fromExistingSecret is false" $i.name) $o.clientSecret | b64enc | quote }}
{{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $i.name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.labels" $ctx | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ $v.revisionHistoryLimit }}
  selector:
    matchLabels:
      {{- include "rds-connector-lib.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "rds-connector-lib.labels" $ctx | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ toJson $i.config | sha256sum }}
        {{- if and $o (not $o.fromExistingSecret) }}
        checksum/secret: {{ printf "%s/%s" $o.clientId $o.clientSecret | sha256sum }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with (include "rds-connector-lib.imagePullSecrets" $root | trim) }}
      {{- . | nindent 6 }}
      {{- end }}
      automountServiceAccountToken: false
      {{- with $v.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- if $v.waitForTokenStorage.enabled }}
      initContainers:
        - name: wait-for-token-storage
          image: {{ $v.waitForTokenStorage.image | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          command:
            - sh
            - -c
            - |
              until curl -s -o /dev/null --max-time 3 "$TOKEN_STORAGE"; do
                echo "waiting for the Token Storage at $TOKEN_STORAGE"
                sleep 2
              done
          env:
            - name: TOKEN_STORAGE
              value: {{ $v.waitForTokenStorage.url | quote }}
          {{- with $v.securityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml $v.waitForTokenStorage.resources | nindent 12 }}
      {{- end }}
      containers:
        - name: connector
          image: {{ include "rds-connector-lib.image" $root | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          envFrom:
            {{- range $v.sharedConfigMaps }}
            - configMapRef:
                name: {{ .name }}
                optional: {{ .optional | default false }}
            {{- end }}
            - configMapRef:
                name: {{ $i.name }}
          env:
            - name: LISTEN_ADDR
              value: "0.0.0.0:8080"
            {{- if $o }}
            - name: {{ $i.secretEnv.id }}
              valueFrom:
                secretKeyRef:
                  name: {{ include "rds-connector-lib.secretName" $ctx }}
                  key: {{ $o.clientIdKey }}
            - name: {{ $i.secretEnv.secret }}
              valueFrom:
                secretKeyRef:
                  name: {{ include "rds-connector-lib.secretName" $ctx }}
                  key: {{ $o.clientSecretKey }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          livenessProbe:
            httpGet:
              path: /health
              port: http
            {{- toYaml $v.livenessProbe | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /ready
              port: http
            {{- toYaml $v.readinessProbe | nindent 12 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          {{- with $v.securityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with $v.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            {{- with $v.tmpDir.sizeLimit }}
            sizeLimit: {{ . }}
            {{- end }}
            {{- with $v.tmpDir.medium }}
            medium: {{ . }}
            {{- end }}
        {{- with $v.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $i.name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.labels" $ctx | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- include "rds-connector-lib.selectorLabels" $ctx | nindent 4 }}
  ports:
    - name: http
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $i.name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.labels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $i.name }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    {{- with $v.autoscaling.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
    {{- with $v.autoscaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
{{- end }}
{{- if $v.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $i.name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.labels" $ctx | nindent 4 }}
spec:
  {{- if $v.podDisruptionBudget.maxUnavailable }}
  maxUnavailable: {{ $v.podDisruptionBudget.maxUnavailable }}
  {{- else }}
  minAvailable: {{ $v.podDisruptionBudget.minAvailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "rds-connector-lib.selectorLabels" $ctx | nindent 6 }}
{{- end }}
{{- include "rds-connector-lib.serviceMonitor" $ctx }}
{{- end -}}
