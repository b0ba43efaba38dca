{{/*
rds-connector-lib: the common parts of a Sciebo RDS layer-1 connector.

A connector chart builds one "instance" per Service it offers and renders it with
  {{ include "rds-connector-lib.instance" (dict "root" $ "instance" $instance) }}
where $instance is a dict:
  name          the resource name, `layer1-<servicename>` (Deployment, Service, ConfigMap)
  servicename   e.g. `port-zenodo`, `port-owncloud-sciebo-example-org`
  component     a short name for labels, e.g. `zenodo`
  config        map of environment variables for the connector's ConfigMap ("" values skipped)
  oauthClient   {fromExistingSecret, existingSecret, clientIdKey, clientSecretKey, clientId, clientSecret};
                absent (nil) for a connector without an OAuth2 client (a LoginService):
                then no Secret and no secretEnv
  secretEnv     {id: <env name of the client id>, secret: <env name of the client secret>}
Everything else (image, probes, resources, security, autoscaling, ...) comes from the
chart's .Values.
*/}}

{{- define "rds-connector-lib.dashed" -}}
{{- . | lower | replace "." "-" | replace ":" "-" | replace "_" "-" | replace "/" "-" | trimSuffix "-" -}}
{{- end -}}

{{- define "rds-connector-lib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: stable over upgrades. Arg: (dict "root" $ "instance" $i) */}}
{{- define "rds-connector-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ .instance.name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "rds-connector-lib.labels" -}}
{{ include "rds-connector-lib.selectorLabels" . }}
helm.sh/chart: {{ include "rds-connector-lib.chart" .root }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
research-data-services.org/servicename: {{ .instance.servicename | quote }}
{{- with .root.Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The image: global.image.registry / global.imageRegistry override image.registry,
global.image.tag overrides image.tag, which defaults to the chart's appVersion.
*/}}
{{- define "rds-connector-lib.image" -}}
{{- $g := .Values.global | default dict -}}
{{- $gi := $g.image | default dict -}}
{{- $registry := $gi.registry | default $g.imageRegistry | default .Values.image.registry -}}
{{- $tag := $gi.tag | default .Values.image.tag | default .Chart.AppVersion -}}
{{- $ref := .Values.image.repository -}}
{{- if $registry }}{{ $ref = printf "%s/%s" ($registry | trimSuffix "/") $ref }}{{ end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $ref .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (toString $tag) -}}
{{- end -}}
{{- end -}}

{{- define "rds-connector-lib.imagePullSecrets" -}}
{{- $g := .Values.global | default dict -}}
{{- $secrets := concat ($g.imagePullSecrets | default list) (.Values.imagePullSecrets | default list) -}}
{{- if $secrets }}
imagePullSecrets:
{{- range $secrets }}
  {{- if kindIs "string" . }}
  - name: {{ . }}
  {{- else }}
  - {{ toYaml . | nindent 4 | trim }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The Secret the client credentials come from. Arg: (dict "root" $ "instance" $i) */}}
{{- define "rds-connector-lib.secretName" -}}
{{- $o := .instance.oauthClient -}}
{{- if $o.fromExistingSecret -}}
{{- required (printf "%s: oauthClient.existingSecret is empty; name the Secret holding the client credentials, or set fromExistingSecret: false with clientId and clientSecret" .instance.name) $o.existingSecret -}}
{{- else -}}
{{- printf "%s-oauth-client" .instance.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
