{{/*
Labels. Two helpers, both called with a dict:
  (dict "context" $ "component" "engine" "model" $model)   for one model's objects
  (dict "context" $ "component" "router")                  for the router's objects
  (dict "context" $ "component" "")                        for release-wide objects (Secrets)

vllm-models.selectorLabels is the minimal, immutable set used in `spec.selector`: it never changes
between upgrades (no version, no chart label) and never contains user labels.
vllm-models.labels adds the metadata labels on top: chart, version, managed-by, then `commonLabels`
and, for a model, that model's `labels`. User labels cannot override the chart's own keys.
With "pod" true (engine pod templates) it leaves out `helm.sh/chart` and `app.kubernetes.io/version`:
a chart upgrade that changes nothing for a model must not restart it (a 70B engine is down for many
minutes under Recreate).
*/}}

{{/*
vllm-models.selectorLabels: `app.kubernetes.io/name`, `app.kubernetes.io/instance`,
`app.kubernetes.io/component` (when given) and, for a model, `vllm-models.io/model`.
*/}}
{{- define "vllm-models.selectorLabels" -}}
{{- $ctx := .context -}}
app.kubernetes.io/name: {{ include "vllm-models.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name | trunc 63 | trimSuffix "-" }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- with .model }}
vllm-models.io/model: {{ .name | toString | toYaml }}{{/* toYaml quotes a name YAML reads as a number, such as "0" */}}
{{- end }}
{{- end -}}

{{/*
vllm-models.labels: the selector labels plus `helm.sh/chart`, `app.kubernetes.io/version`,
`app.kubernetes.io/managed-by`, `app.kubernetes.io/part-of`, `commonLabels` and the model's `labels`.
*/}}
{{- define "vllm-models.labels" -}}
{{- $ctx := .context -}}
{{- $own := include "vllm-models.selectorLabels" . | fromYaml -}}
{{- $_ := set $own "app.kubernetes.io/managed-by" $ctx.Release.Service -}}
{{- $_ := set $own "app.kubernetes.io/part-of" (include "vllm-models.name" $ctx) -}}
{{- if not .pod }}
{{- $_ := set $own "helm.sh/chart" (include "vllm-models.chart" $ctx) -}}
{{- with $ctx.Chart.AppVersion }}
{{- $_ := set $own "app.kubernetes.io/version" (. | trunc 63 | trimSuffix "-") -}}
{{- end }}
{{- end }}
{{- $user := deepCopy ($ctx.Values.commonLabels | default dict) -}}
{{- with .model }}
{{- $user = merge (deepCopy (.labels | default dict)) $user -}}
{{- end }}
{{- $all := merge $own $user -}}
{{- if .pod }}
{{- $all = omit $all "helm.sh/chart" "app.kubernetes.io/version" -}}
{{- end }}
{{- toYaml $all -}}
{{- end -}}
