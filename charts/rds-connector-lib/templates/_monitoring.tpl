{{/*
Prometheus Operator and Grafana objects of a connector chart (issue 16), all off by default
(.Values.monitoring):
  rds-connector-lib.serviceMonitor  one per instance, from the end of rds-connector-lib.instance
  rds-connector-lib.monitoring      once per chart (templates/monitoring.yaml): the
                                    PrometheusRule and the Grafana dashboard ConfigMap
The ServiceMonitor labels every series with rds_chart=<chart name>; the alerts select on it,
so two connector charts in one Prometheus do not alert twice for the same connector.
Metric names: METRICS-CONTRACT (the connectors' /metrics); ci/prometheus/ checks them.
*/}}

{{/* Arg: (dict "root" $ "instance" $i) */}}
{{- define "rds-connector-lib.serviceMonitor" -}}
{{- $root := .root -}}
{{- $sm := $root.Values.monitoring.serviceMonitor -}}
{{- if $sm.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .instance.name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.labels" . | nindent 4 }}
    {{- with $sm.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "rds-connector-lib.selectorLabels" . | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ $root.Release.Namespace }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $sm.interval }}
      scrapeTimeout: {{ $sm.scrapeTimeout }}
      relabelings:
        - action: replace
          targetLabel: rds_chart
          replacement: {{ $root.Chart.Name }}
{{- end }}
{{- end -}}

{{/* Labels of the objects a chart has once (not per instance). Arg: the chart's root context. */}}
{{- define "rds-connector-lib.chartLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ include "rds-connector-lib.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The PrometheusRule and the dashboard ConfigMap. Arg: the chart's root context. */}}
{{- define "rds-connector-lib.monitoring" -}}
{{- $m := .Values.monitoring -}}
{{- if $m.prometheusRule.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.chartLabels" . | nindent 4 }}
    {{- with $m.prometheusRule.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- include "rds-connector-lib.rules" . | nindent 2 }}
{{- end }}
{{- if $m.dashboard.enabled }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-%s-dashboard" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
  namespace: {{ $m.dashboard.namespace | default .Release.Namespace }}
  labels:
    {{- include "rds-connector-lib.chartLabels" . | nindent 4 }}
    {{ $m.dashboard.label }}: {{ $m.dashboard.labelValue | quote }}
  {{- with $m.dashboard.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
data:
  rds-{{ .Chart.Name }}.json: |-
    {{- include "rds-connector-lib.dashboard" . | nindent 4 }}
{{- end }}
{{- end -}}

{{/* The upstream outcomes that count as failures (client_error: the caller's mistake). */}}
{{- define "rds-connector-lib.upstreamErrors" -}}
outcome=~"server_error|timeout|connect_error|error|stalled"
{{- end -}}

{{/*
The alert rules (a Prometheus rule file: the PrometheusRule's spec). Stable alert names:
the docs reference them. Prometheus' own templates ({{ $labels.x }}) are raw strings here.
*/}}
{{- define "rds-connector-lib.rules" -}}
{{- $r := .Values.monitoring.prometheusRule -}}
{{- $s := printf `rds_chart="%s"` .Chart.Name -}}
{{- $errors := include "rds-connector-lib.upstreamErrors" . -}}
groups:
  - name: {{ printf "rds-connector.%s" .Chart.Name }}
    rules:
      - alert: RdsConnectorNotRegistered
        expr: max by (namespace, service) (connector_registered{ {{- $s -}} }) == 0
        for: {{ $r.notRegistered.for }}
        labels:
          severity: {{ $r.notRegistered.severity }}
        annotations:
          summary: {{ `{{ $labels.service }} is not registered with the Token Storage` | quote }}
          description: {{ printf `connector_registered has been 0 for %s in {{ $labels.namespace }}/{{ $labels.service }}: RDS does not offer this service. Check that the Token Storage is up and CENTRAL_SERVICE_TOKEN_STORAGE points at it; read the connector's registration log lines (/ready answers 503 meanwhile).` $r.notRegistered.for | quote }}
      - alert: RdsConnectorUpstreamErrorRatioHigh
        expr: |
          (
            sum by (namespace, service, upstream) (rate(connector_upstream_requests_total{ {{- $s }}, {{ $errors -}} }[5m]))
          /
            sum by (namespace, service, upstream) (rate(connector_upstream_requests_total{ {{- $s -}} }[5m]))
          ) > {{ $r.upstreamErrors.ratio }}
          and
            sum by (namespace, service, upstream) (rate(connector_upstream_requests_total{ {{- $s -}} }[5m])) > {{ $r.upstreamErrors.minRate }}
        for: {{ $r.upstreamErrors.for }}
        labels:
          severity: {{ $r.upstreamErrors.severity }}
        annotations:
          summary: {{ `{{ $labels.upstream }} fails {{ $value | humanizePercentage }} of the calls from {{ $labels.service }}` | quote }}
          description: "Check the provider's status page and the outcome split of connector_upstream_requests_total (timeout, connect_error vs server_error). The connector is at fault only if one pod alone is affected."
      - alert: RdsConnectorCircuitOpen
        expr: max by (namespace, service, upstream) (connector_upstream_circuit_state{ {{- $s -}}, state="open"}) == 1
        for: {{ $r.circuitOpen.for }}
        labels:
          severity: {{ $r.circuitOpen.severity }}
        annotations:
          summary: {{ `the circuit to {{ $labels.upstream }} is open in {{ $labels.service }}: its calls fail at once with 503` | quote }}
          description: "The provider stopped answering (connect failures or timeouts). Check that it is reachable from the pod; the circuit closes by itself after the first good probe."
      - alert: RdsConnectorTransfersStalling
        expr: sum by (namespace, service, upstream) (increase(connector_transfers_total{ {{- $s -}}, outcome="stalled"}[{{ $r.transfersStalling.window }}])) >= {{ $r.transfersStalling.count }}
        labels:
          severity: {{ $r.transfersStalling.severity }}
        annotations:
          summary: {{ printf `{{ $value | printf "%%.0f" }} transfers with {{ $labels.upstream }} stalled in %s ({{ $labels.service }})` $r.transfersStalling.window | quote }}
          description: "Read the connector's transfer log lines (stalled, bytes so far) to see which side stopped sending; check the provider's load and IDLE_TIMEOUT_SECS."
      - alert: RdsConnectorChecksumMismatch
        expr: sum by (namespace, service, upstream) (increase(connector_transfers_total{ {{- $s -}}, outcome="checksum_mismatch"}[{{ $r.checksumMismatch.window }}])) > 0
        labels:
          severity: {{ $r.checksumMismatch.severity }}
        annotations:
          summary: {{ printf `a transfer with {{ $labels.upstream }} failed checksum verification in %s ({{ $labels.service }})` $r.checksumMismatch.window | quote }}
          description: "Data integrity: the provider's checksum differed from the bytes the connector streamed, and the transfer was reported failed. Read the transfer log lines (request id, file); check the provider and any proxy between for corruption or truncation."
      {{- /* Probes and scrapes are no answers to RDS: /ready is 503 while registering. */}}
      {{- $api := printf `%s, route!~"/health|/ready|/metrics"` $s }}
      - alert: RdsConnector5xxRising
        expr: |
          (
            sum by (namespace, service) (rate(connector_http_requests_total{ {{- $api -}}, status=~"5.."}[5m]))
          /
            sum by (namespace, service) (rate(connector_http_requests_total{ {{- $api -}} }[5m]))
          ) > {{ $r.http5xx.ratio }}
          and
            sum by (namespace, service) (rate(connector_http_requests_total{ {{- $api -}} }[5m])) > {{ $r.http5xx.minRate }}
        for: {{ $r.http5xx.for }}
        labels:
          severity: {{ $r.http5xx.severity }}
        annotations:
          summary: {{ `{{ $labels.service }} answers {{ $value | humanizePercentage }} of its requests with 5xx` | quote }}
          description: "Split by status: 502/504 point at the provider (see the upstream alerts), 503 at registration or an open circuit, 500 at a bug (log lines at error level)."
{{- end -}}

{{/*
The Grafana dashboard (JSON), built from a compact panel list so that it is valid JSON by
construction. Each panel: title, unit, then pairs of (PromQL, legend). uid rds-<chart>.
*/}}
{{- define "rds-connector-lib.dashboard" -}}
{{- $f := `namespace=~"$namespace", service=~"$service"` -}}
{{- $errors := include "rds-connector-lib.upstreamErrors" . -}}
{{- $ri := "$__rate_interval" -}}
{{- $ds := dict "type" "prometheus" "uid" "${datasource}" -}}
{{- $q := `histogram_quantile(%s, sum by (le, %s) (rate(%s_bucket{%s}[%s])))` -}}
{{- $panels := list
  (list "Registered with the Token Storage (1 = yes)" "none"
    (printf `max by (service, pod) (connector_registered{%s})` $f) "{{pod}}")
  (list "Transfers in flight" "none"
    (printf `sum by (service, direction) (connector_transfers_in_flight{%s})` $f) "{{service}} {{direction}}")
  (list "Transfer throughput" "Bps"
    (printf `sum by (direction, upstream) (rate(connector_transfer_bytes_total{%s}[%s]))` $f $ri) "{{upstream}} {{direction}}")
  (list "Transfer outcomes" "ops"
    (printf `sum by (outcome, direction) (rate(connector_transfers_total{%s}[%s]))` $f $ri) "{{direction}} {{outcome}}")
  (list "Transfer duration p50 / p95" "s"
    (printf $q "0.5" "direction" "connector_transfer_duration_seconds" $f $ri) "p50 {{direction}}"
    (printf $q "0.95" "direction" "connector_transfer_duration_seconds" $f $ri) "p95 {{direction}}")
  (list "Transfer size p50 / p95" "bytes"
    (printf $q "0.5" "direction" "connector_transfer_size_bytes" $f $ri) "p50 {{direction}}"
    (printf $q "0.95" "direction" "connector_transfer_size_bytes" $f $ri) "p95 {{direction}}")
  (list "Requests by status class" "reqps"
    (printf `sum(rate(connector_http_requests_total{%s, route!~"/health|/ready|/metrics", status=~"2.."}[%s]))` $f $ri) "2xx"
    (printf `sum(rate(connector_http_requests_total{%s, route!~"/health|/ready|/metrics", status=~"4.."}[%s]))` $f $ri) "4xx"
    (printf `sum(rate(connector_http_requests_total{%s, route!~"/health|/ready|/metrics", status=~"5.."}[%s]))` $f $ri) "5xx")
  (list "Request latency p95 by route" "s"
    (printf $q "0.95" "route" "connector_http_request_duration_seconds" $f $ri) "{{route}}")
  (list "Upstream calls by outcome" "reqps"
    (printf `sum by (upstream, outcome) (rate(connector_upstream_requests_total{%s}[%s]))` $f $ri) "{{upstream}} {{outcome}}")
  (list "Upstream error ratio" "percentunit"
    (printf `sum by (upstream) (rate(connector_upstream_requests_total{%s, %s}[%s])) / sum by (upstream) (rate(connector_upstream_requests_total{%s}[%s]))` $f $errors $ri $f $ri) "{{upstream}}")
  (list "Upstream latency p95" "s"
    (printf $q "0.95" "upstream" "connector_upstream_request_duration_seconds" $f $ri) "{{upstream}}")
  (list "Circuit state (1 = open / half open)" "none"
    (printf `max by (service, upstream, state) (connector_upstream_circuit_state{%s, state!="closed"})` $f) "{{service}} {{upstream}} {{state}}")
  (list "Re-registrations" "none"
    (printf `sum by (service) (increase(connector_reregistrations_total{%s}[%s]))` $f $ri) "{{service}}")
  (list "Process resident memory" "bytes"
    (printf `sum by (pod) (process_resident_memory_bytes{%s})` $f) "{{pod}}")
  (list "Process CPU (cores)" "none"
    (printf `sum by (pod) (rate(process_cpu_seconds_total{%s}[%s]))` $f $ri) "{{pod}}")
-}}
{{- $out := list -}}
{{- range $i, $p := $panels -}}
{{- $t := slice $p 2 -}}
{{- $targets := list -}}
{{- range $j := until (div (len $t) 2 | int) -}}
{{- $targets = append $targets (dict "refId" (index (list "A" "B" "C" "D") $j) "datasource" $ds "expr" (index $t (mul $j 2)) "legendFormat" (index $t (add1 (mul $j 2)))) -}}
{{- end -}}
{{- $out = append $out (dict
  "id" (add1 $i) "type" "timeseries" "title" (index $p 0) "datasource" $ds
  "gridPos" (dict "h" 8 "w" 12 "x" (mul (mod $i 2) 12) "y" (mul (div $i 2) 8))
  "fieldConfig" (dict "defaults" (dict "unit" (index $p 1)) "overrides" (list))
  "options" (dict "legend" (dict "displayMode" "list" "placement" "bottom" "showLegend" true) "tooltip" (dict "mode" "multi" "sort" "none"))
  "targets" $targets) -}}
{{- end -}}
{{- $var := dict "datasource" $ds "refresh" 2 "includeAll" true "multi" true "allValue" ".*" "current" (dict) "type" "query" "sort" 1 -}}
{{- $templating := list
  (dict "name" "datasource" "label" "Data source" "type" "datasource" "query" "prometheus" "current" (dict) "hide" 0)
  (merge (dict "name" "namespace" "label" "Namespace" "query" (dict "query" "label_values(connector_info, namespace)" "refId" "namespace") "definition" "label_values(connector_info, namespace)") $var)
  (merge (dict "name" "service" "label" "Service" "query" (dict "query" `label_values(connector_info{namespace=~"$namespace"}, service)` "refId" "service") "definition" `label_values(connector_info{namespace=~"$namespace"}, service)`) $var)
-}}
{{- toPrettyJson (dict
  "uid" (printf "rds-%s" .Chart.Name | trunc 40 | trimSuffix "-")
  "title" (printf "Sciebo RDS connectors (%s)" .Chart.Name)
  "tags" (list "sciebo-rds" "rds-connectors")
  "editable" true "schemaVersion" 39 "version" 1 "refresh" "1m" "graphTooltip" 1
  "time" (dict "from" "now-6h" "to" "now")
  "templating" (dict "list" $templating)
  "panels" $out) -}}
{{- end -}}
