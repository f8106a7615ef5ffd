{{/*
vllm-models.inferencePool.models: the models that get an InferencePool, as JSON {"models": [...]}:
every model when `inferencePool.models` is empty, else those it names (an unknown name fails).
Also fails when the route has no Gateway to attach to.
*/}}
{{- define "vllm-models.inferencePool.models" -}}
{{- $p := .Values.inferencePool -}}
{{- if not $p.httpRoute.parentRefs -}}
{{- fail "inferencePool.enabled is true but inferencePool.httpRoute.parentRefs is empty: name the Gateway, e.g. [{name: inference-gateway, namespace: gateway-system}]" -}}
{{- end -}}
{{- $all := (include "vllm-models.models" . | fromJson).models -}}
{{- $names := list -}}
{{- range $all }}{{ $names = append $names (toString .name) }}{{ end -}}
{{- range $p.models -}}
{{- if not (has (toString .) $names) -}}
{{- fail (printf "inferencePool.models names %q, which is not a model of this release (models: %s)" (toString .) (join ", " $names)) -}}
{{- end -}}
{{- end -}}
{{- $chosen := list -}}
{{- range $all -}}
{{- if or (not $p.models) (has (toString .name) $p.models) -}}
{{- $chosen = append $chosen . -}}
{{- end -}}
{{- end -}}
{{- dict "models" $chosen | toJson -}}
{{- end -}}

{{/*
vllm-models.inferencePool.eppConfig: the endpoint picker's plugin configuration (EndpointPickerConfig of
the pinned llm-d router): `inferencePool.epp.config` when set, else prefix-cache, KV-cache-utilization and
queue-depth scoring from the engines' /metrics, the router project's own default profile.
*/}}
{{- define "vllm-models.inferencePool.eppConfig" -}}
{{- with .Values.inferencePool.epp.config -}}
{{- . -}}
{{- else -}}
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: queue-scorer
  - type: kv-cache-utilization-scorer
  - type: prefix-cache-scorer
  - type: metrics-data-source
    parameters:
      scheme: http
      path: /metrics
  - type: core-metrics-extractor
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: queue-scorer
        weight: 2
      - pluginRef: kv-cache-utilization-scorer
        weight: 2
      - pluginRef: prefix-cache-scorer
        weight: 3
{{- end -}}
{{- end -}}
