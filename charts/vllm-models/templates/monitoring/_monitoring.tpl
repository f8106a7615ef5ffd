{{/*
Shared by the Grafana dashboard and the PrometheusRule. Both select this release's series by the labels
the chart's ServiceMonitors give them: `namespace` and `job`, which the Prometheus Operator sets to the
scraped Service's name (each model's Service, the router's Service).

vllm-models.monitoring.targets: JSON {"engines": [{"model", "served", "job", "replicas"}...],
"engineJobs": "<job>|<job>...", "routerJob": "<router Service>", "router": "litellm"|"vllm-router"|""}.
Model and Service names are DNS labels, so the job alternation needs no regex escaping.
*/}}
{{- define "vllm-models.monitoring.targets" -}}
{{- $engines := list -}}
{{- $jobs := list -}}
{{- range $m := (include "vllm-models.models" . | fromJson).models -}}
{{- $job := include "vllm-models.model.serviceName" (dict "context" $ "model" $m) -}}
{{- $engines = append $engines (dict "model" $m.name "served" $m.derived.servedModelName "job" $job "replicas" (int $m.derived.replicas)) -}}
{{- $jobs = append $jobs $job -}}
{{- end -}}
{{- $router := "" -}}
{{- if .Values.router.enabled -}}
{{- $router = .Values.router.engine -}}
{{- end -}}
{{- toJson (dict "engines" $engines "engineJobs" (join "|" $jobs) "routerJob" (include "vllm-models.router.fullname" .) "router" $router) -}}
{{- end -}}
