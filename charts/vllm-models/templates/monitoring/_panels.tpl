{{/*
vllm-models.monitoring.panels: the dashboard's panels as YAML {sections: [{title, panels: [{title,
description, unit, targets: [{expr, legend}]}]}]}. Call with (dict "context" $ "targets" <monitoring.targets>).
`$model` is the dashboard's model variable (its values are the models' jobs); `$__rate_interval` is
Grafana's. Every metric name here is one the pinned vLLM, LiteLLM or vllm-router exported in a test
(tests/fixtures/metrics/).
*/}}
{{- define "vllm-models.monitoring.panels" -}}
{{- $ns := .context.Release.Namespace -}}
{{- $e := printf "namespace=\"%s\", job=~\"$model\"" $ns -}}
{{- $r := printf "namespace=\"%s\", job=\"%s\"" $ns .targets.routerJob -}}
{{- $ri := "[$__rate_interval]" -}}
{{- $byModel := "{{model_name}}" -}}
sections:
  - title: Engines
    panels:
      - title: Requests running
        description: Requests in the engines' running batch (vllm:num_requests_running), per model.
        unit: short
        targets:
          - expr: {{ printf "sum by (model_name) (vllm:num_requests_running{%s})" $e | quote }}
            legend: {{ $byModel | quote }}
      - title: Requests waiting
        description: Requests queued for a batch slot (vllm:num_requests_waiting), per model.
        unit: short
        targets:
          - expr: {{ printf "sum by (model_name) (vllm:num_requests_waiting{%s})" $e | quote }}
            legend: {{ $byModel | quote }}
      - title: KV-cache usage
        description: Fraction of KV-cache blocks in use (vllm:kv_cache_usage_perc), the fullest replica of each model.
        unit: percentunit
        targets:
          - expr: {{ printf "max by (model_name) (vllm:kv_cache_usage_perc{%s})" $e | quote }}
            legend: {{ $byModel | quote }}
      - title: Time to first token (p50, p95)
        description: From vllm:time_to_first_token_seconds, per model.
        unit: s
        targets:
          {{- range $q := list (list "0.5" "p50") (list "0.95" "p95") }}
          - expr: {{ printf "histogram_quantile(%s, sum by (model_name, le) (rate(vllm:time_to_first_token_seconds_bucket{%s}%s)))" (first $q) $e $ri | quote }}
            legend: {{ printf "{{model_name}} %s" (last $q) | quote }}
          {{- end }}
      - title: End-to-end request latency (p50, p95)
        description: From vllm:e2e_request_latency_seconds, per model.
        unit: s
        targets:
          {{- range $q := list (list "0.5" "p50") (list "0.95" "p95") }}
          - expr: {{ printf "histogram_quantile(%s, sum by (model_name, le) (rate(vllm:e2e_request_latency_seconds_bucket{%s}%s)))" (first $q) $e $ri | quote }}
            legend: {{ printf "{{model_name}} %s" (last $q) | quote }}
          {{- end }}
      - title: Generation tokens per second
        description: Tokens generated per second (vllm:generation_tokens_total), per model.
        unit: short
        targets:
          - expr: {{ printf "sum by (model_name) (rate(vllm:generation_tokens_total{%s}%s))" $e $ri | quote }}
            legend: {{ $byModel | quote }}
      - title: Preemptions per second
        description: Requests preempted for lack of KV cache (vllm:num_preemptions_total), per model.
        unit: short
        targets:
          - expr: {{ printf "sum by (model_name) (rate(vllm:num_preemptions_total{%s}%s))" $e $ri | quote }}
            legend: {{ $byModel | quote }}
      - title: Engines up
        description: Engine targets Prometheus scrapes successfully (up), per model's job.
        unit: short
        targets:
          - expr: {{ printf "sum by (job) (up{%s})" $e | quote }}
            legend: "{{"{{"}}job{{"}}"}}"
{{- if eq .targets.router "litellm" }}
  - title: Router (LiteLLM)
    panels:
      - title: Requests per second
        description: Requests the router answered (litellm_proxy_total_requests_metric_total), per model and status code.
        unit: reqps
        targets:
          - expr: {{ printf "sum by (requested_model, status_code) (rate(litellm_proxy_total_requests_metric_total{%s}%s))" $r $ri | quote }}
            legend: "{{"{{"}}requested_model{{"}}"}} {{"{{"}}status_code{{"}}"}}"
      - title: 5xx share
        description: Share of the router's answers that were a 5xx, per model.
        unit: percentunit
        targets:
          - expr: {{ printf "sum by (requested_model) (rate(litellm_proxy_total_requests_metric_total{%s, status_code=~\"5..\"}%s)) / sum by (requested_model) (rate(litellm_proxy_total_requests_metric_total{%s}%s))" $r $ri $r $ri | quote }}
            legend: "{{"{{"}}requested_model{{"}}"}}"
      - title: Failed requests per second
        description: Failed requests (litellm_proxy_failed_requests_metric_total), per model and status.
        unit: reqps
        targets:
          - expr: {{ printf "sum by (requested_model, exception_status) (rate(litellm_proxy_failed_requests_metric_total{%s}%s))" $r $ri | quote }}
            legend: "{{"{{"}}requested_model{{"}}"}} {{"{{"}}exception_status{{"}}"}}"
      - title: Request latency (p50, p95)
        description: Total request latency through the router (litellm_request_total_latency_metric), per model.
        unit: s
        targets:
          {{- range $q := list (list "0.5" "p50") (list "0.95" "p95") }}
          - expr: {{ printf "histogram_quantile(%s, sum by (requested_model, le) (rate(litellm_request_total_latency_metric_bucket{%s}%s)))" (first $q) $r $ri | quote }}
            legend: {{ printf "{{requested_model}} %s" (last $q) | quote }}
          {{- end }}
{{- else if eq .targets.router "vllm-router" }}
  - title: Router (vllm-router)
    panels:
      - title: Successful requests per second
        description: Requests vllm-router answered without an error (vllm_router_requests_total counts only those), per route; it has no model label.
        unit: reqps
        targets:
          - expr: {{ printf "sum by (route) (rate(vllm_router_requests_total{%s}%s))" $r $ri | quote }}
            legend: "{{"{{"}}route{{"}}"}}"
      - title: Errors per second
        description: Failed requests (vllm_router_request_errors_total), per error type.
        unit: reqps
        targets:
          - expr: {{ printf "sum by (error_type) (rate(vllm_router_request_errors_total{%s}%s))" $r $ri | quote }}
            legend: "{{"{{"}}error_type{{"}}"}}"
      - title: Request latency (p50, p95)
        description: vllm_router_generate_duration_seconds, all models.
        unit: s
        targets:
          {{- range $q := list (list "0.5" "p50") (list "0.95" "p95") }}
          - expr: {{ printf "histogram_quantile(%s, sum by (le) (rate(vllm_router_generate_duration_seconds_bucket{%s}%s)))" (first $q) $r $ri | quote }}
            legend: {{ last $q | quote }}
          {{- end }}
      - title: Healthy engines
        description: Engines vllm-router considers healthy (vllm_router_worker_health).
        unit: short
        targets:
          - expr: {{ printf "sum(vllm_router_worker_health{%s})" $r | quote }}
            legend: healthy
{{- end }}
{{- end -}}
