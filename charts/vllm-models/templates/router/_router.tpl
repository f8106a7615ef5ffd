{{/*
Router helpers: the router's settings with their defaults, its master key, and its configuration
rendered from the models (LiteLLM config.yaml, or vllm-router arguments). Names come from _names.tpl
(vllm-models.router.fullname, vllm-models.router.masterKeySecretName), labels from _labels.tpl.
*/}}

{{/*
vllm-models.router.values: `router` as JSON. Helm merges values.yaml under every user or Argo CD inline
values file, so values.yaml is the one place each router default (image tags, ports, policy) is set.
*/}}
{{- define "vllm-models.router.values" -}}
{{- toJson .Values.router -}}
{{- end -}}

{{/*
vllm-models.router.masterKeyRef: `{"name": <secret>, "key": <key>}` of the LiteLLM master key, as JSON
(the Secret the chart creates from a value or an ExternalSecret fills, when no existing one is named);
`{}` when auth is off. Fails, naming the values to set, when auth is on and no key is given.
*/}}
{{- define "vllm-models.router.masterKeyRef" -}}
{{- $r := include "vllm-models.router.values" . | fromJson -}}
{{- $mk := $r.auth.masterKey -}}
{{- if not $r.auth.enabled -}}
{{- toJson dict -}}
{{- else if and $mk.existingSecret $mk.value -}}
{{- fail "set only one of router.auth.masterKey.existingSecret and router.auth.masterKey.value" -}}
{{- else if $mk.existingSecret -}}
{{- toJson (dict "name" $mk.existingSecret "key" $mk.secretKey) -}}
{{- else if or $mk.value (include "vllm-models.externalSecrets.fills" (dict "context" . "role" "router-master-key")) -}}
{{- toJson (dict "name" (include "vllm-models.router.masterKeySecretName" .) "key" $mk.secretKey) -}}
{{- else -}}
{{- fail "router.auth.enabled is true but no master key is given: set router.auth.masterKey.existingSecret (a Secret with the key under router.auth.masterKey.secretKey), router.auth.masterKey.value or externalSecrets.routerMasterKey.key, or set router.auth.enabled=false" -}}
{{- end -}}
{{- end -}}

{{/*
vllm-models.router.engineKeyEnv: environment variable that carries a model's engine API key into the
router, `VLLM_API_KEY_<MODEL NAME>` (a DNS label: upper case, `-` as `_`). Call with the model.
*/}}
{{- define "vllm-models.router.engineKeyEnv" -}}
{{- printf "VLLM_API_KEY_%s" (.name | upper | replace "-" "_") -}}
{{- end -}}

{{/*
vllm-models.router.litellmConfig: LiteLLM's config.yaml: one model_list entry per model and one per LoRA
adapter (at its base model's engine, which serves the adapter under its own name, at the base model's
prices), addressed by the Service DNS name (vllm-models.model.baseURL) or, for a pooled model with
inferencePool.routerGatewayURL, by the Gateway with the header its route matches; the master key from the env.
*/}}
{{- define "vllm-models.router.litellmConfig" -}}
{{- $ctx := . -}}
{{- $r := include "vllm-models.router.values" . | fromJson -}}
{{- $models := (include "vllm-models.models" . | fromJson).models -}}
{{- /* models whose requests go through the inference Gateway (inferencePool.routerGatewayURL) */ -}}
{{- $viaGateway := list -}}
{{- if and .Values.inferencePool.enabled .Values.inferencePool.routerGatewayURL -}}
{{- range (include "vllm-models.inferencePool.models" . | fromJson).models }}{{ $viaGateway = append $viaGateway (toString .name) }}{{ end -}}
{{- end -}}
model_list:
{{- range $m := $models }}
{{- $gateway := has (toString $m.name) $viaGateway }}
{{- /* the model, then each of its LoRA adapters: the same engine, asked for the adapter by its name */}}
{{- $entries := list (dict "name" $m.name "engineModel" $m.derived.servedModelName) }}
{{- range $m.derived.loraAdapters }}{{ $entries = append $entries (dict "name" .name "engineModel" .name) }}{{ end }}
{{- range $e := $entries }}
  - model_name: {{ $e.name | quote }}
    litellm_params:
      model: {{ printf "hosted_vllm/%s" $e.engineModel | quote }}
      {{- if $gateway }}
      api_base: {{ printf "%s/v1" (trimSuffix "/" $ctx.Values.inferencePool.routerGatewayURL) | quote }}
      {{- if $ctx.Values.inferencePool.httpRoute.matchModelHeader }}
      {{- /* the route of the model's pool matches this header, whatever adapter the body asks for */}}
      extra_headers:
        {{ $ctx.Values.inferencePool.httpRoute.modelHeader | quote }}: {{ $m.derived.servedModelName | toString | quote }}
      {{- end }}
      {{- else }}
      api_base: {{ include "vllm-models.model.baseURL" (dict "context" $ctx "model" $m) | quote }}
      {{- end }}
      {{- if $m.derived.apiKeySecret }}
      api_key: {{ printf "os.environ/%s" (include "vllm-models.router.engineKeyEnv" $m) | quote }}
      {{- end }}
      {{- with $m.pricing }}
      {{- if hasKey . "inputCostPerToken" }}
      input_cost_per_token: {{ include "vllm-models.decimal" .inputCostPerToken }}
      {{- end }}
      {{- if hasKey . "outputCostPerToken" }}
      output_cost_per_token: {{ include "vllm-models.decimal" .outputCostPerToken }}
      {{- end }}
      {{- end }}
{{- end }}
{{- end }}
{{- /* The ServiceMonitor scrapes without a key (LiteLLM >= 1.8x asks for one by default); the router's
NetworkPolicy decides who reaches the port. router.litellm.settings may override any of these. */}}
{{- $callbacks := list "vllm_models_hooks.unknown_model_guard" "vllm_models_hooks.engine_failure_status" }}
{{- /* The prometheus callback costs up to 2 ms of CPU per request (bench/router_overhead.py). */}}
{{- if $r.litellm.metrics }}{{ $callbacks = prepend $callbacks "prometheus" }}{{ end }}
{{- $settings := dict "callbacks" $callbacks "require_auth_for_metrics_endpoint" false "request_timeout" (int $r.requestTimeoutSeconds) "num_retries" (int $r.retries) }}
litellm_settings:
  {{- mergeOverwrite $settings $r.litellm.settings | toYaml | nindent 2 }}
general_settings:
  {{- if $r.auth.enabled }}
  master_key: os.environ/LITELLM_MASTER_KEY
  custom_auth: vllm_models_hooks.master_key_only
  {{- else }}
  {{- /* LiteLLM >= 1.10x refuses to start without a master key unless told; router.auth.enabled=false
  is that explicit choice (e.g. behind a gateway that authenticates). */}}
  dangerously_permit_weak_or_unset_master_key: true
  {{- end }}
  disable_spend_logs: true
{{- end -}}

{{/*
vllm-models.router.uvicornLogConfig: uvicorn logging for LiteLLM without a per-request access log.
*/}}
{{- define "vllm-models.router.uvicornLogConfig" -}}
{{- $handler := dict "class" "logging.StreamHandler" "formatter" "default" "stream" "ext://sys.stderr" -}}
{{- $formatter := dict "format" "%(asctime)s %(levelname)s %(name)s: %(message)s" -}}
{{- $loggers := dict "uvicorn" (dict "handlers" (list "default") "level" "INFO" "propagate" false) "uvicorn.error" (dict "level" "INFO") "uvicorn.access" (dict "handlers" (list "default") "level" "WARNING" "propagate" false) -}}
{{- toPrettyJson (dict "version" 1 "disable_existing_loggers" false "formatters" (dict "default" $formatter) "handlers" (dict "default" $handler) "loggers" $loggers) -}}
{{- end -}}

{{/*
vllm-models.router.vllmRouterArgs: vllm-router's arguments, as a JSON list.
- discovery `kubernetes` (default): `--enable-igw` (multi-model mode: a worker's model is read from its
  /v1/models) plus pod discovery by the engine selector labels in the release namespace, on the engine
  port. vllm-router 0.1.17 ignores `--worker-urls` in IGW mode, so this is the only multi-model form.
- discovery `static`: `--worker-urls` with every model's Service URL, single-model mode; one model only.
  It proxies /v1/models and every request to that engine, so the model's LoRA adapters work; discovery
  `kubernetes` registers an engine under its base model only, so the chart refuses adapters there, and
  it would discover a multi-node model's headless workers too, so the chart refuses those models there.
*/}}
{{- define "vllm-models.router.vllmRouterArgs" -}}
{{- $ctx := . -}}
{{- $r := include "vllm-models.router.values" . | fromJson -}}
{{- $vr := $r.vllmRouter -}}
{{- $models := (include "vllm-models.models" . | fromJson).models -}}
{{- $args := list "--host" "0.0.0.0" "--port" (toString (int $vr.port)) "--policy" $vr.policy -}}
{{- if eq $vr.discovery "kubernetes" -}}
{{- $args = concat $args (list "--enable-igw" "--service-discovery" "--selector") -}}
{{- $sel := include "vllm-models.selectorLabels" (dict "context" $ctx "component" "engine") | fromYaml -}}
{{- range $k := keys $sel | sortAlpha -}}
{{- $args = append $args (printf "%s=%s" $k (get $sel $k)) -}}
{{- end -}}
{{- $args = concat $args (list "--service-discovery-port" (toString (int $ctx.Values.engine.port)) "--service-discovery-namespace" $ctx.Release.Namespace) -}}
{{- range $m := $models -}}
{{- if eq $m.derived.kind "LeaderWorkerSet" -}}
{{- fail (printf "router.engine=vllm-router with discovery=kubernetes cannot serve model %q, which spans %d nodes: its pod discovery selects every engine pod, the headless workers too, which have no API server; use router.engine=litellm (it routes to the model's Service, which selects the leaders), or router.vllmRouter.discovery=static for a single model" $m.name (int $m.derived.nodes)) -}}
{{- end -}}
{{- with $m.derived.loraAdapters -}}
{{- fail (printf "router.engine=vllm-router with discovery=kubernetes cannot route LoRA adapters (model %q has %d): vllm-router 0.1.17 registers each engine under the first model of its /v1/models, so /v1/models leaves the adapters out and a request naming one is sent to any engine, where only the base model's answers; use router.engine=litellm, or router.vllmRouter.discovery=static for a single model (which forwards every request, adapters too, to its engine)" $m.name (len .)) -}}
{{- end -}}
{{- end -}}
{{- else if eq $vr.discovery "static" -}}
{{- if gt (len $models) 1 -}}
{{- fail (printf "router.vllmRouter.discovery=static serves one model, but %d are listed: vllm-router 0.1.17 routes by model only in IGW mode, which ignores --worker-urls; use router.vllmRouter.discovery=kubernetes" (len $models)) -}}
{{- end -}}
{{- $args = append $args "--worker-urls" -}}
{{- range $m := $models -}}
{{- $args = append $args (include "vllm-models.model.serviceURL" (dict "context" $ctx "model" $m)) -}}
{{- end -}}
{{- else -}}
{{- fail (printf "router.vllmRouter.discovery must be kubernetes or static, not %q" $vr.discovery) -}}
{{- end -}}
{{- range $i, $m := $models -}}
{{- if $m.derived.apiKeySecret -}}
{{- fail (printf "router.engine=vllm-router cannot use engines that require an API key (model %q): vllm-router 0.1.17 reads each engine's /v1/models without a key, so the model is registered as `unknown`, and it does not send its --api-key on proxied requests; unset engineApiKey and models[].apiKeySecret, or use router.engine=litellm" $m.name) -}}
{{- end -}}
{{- end -}}
{{- $args = concat $args (list "--prometheus-host" "0.0.0.0" "--prometheus-port" (toString (int $vr.metricsPort))) -}}
{{- /* vllm-router counts attempts, not retries (its --disable-retries means 1). */ -}}
{{- $args = concat $args (list "--request-timeout-secs" (toString (int $r.requestTimeoutSeconds)) "--retry-max-retries" (toString (add 1 (int $r.retries)))) -}}
{{- $args = concat $args (list "--health-check-interval-secs" (toString (int $vr.healthCheckIntervalSeconds)) "--health-failure-threshold" (toString (int $vr.healthFailureThreshold))) -}}
{{- range $vr.extraArgs }}{{ $args = append $args (toString .) }}{{ end -}}
{{- toJson $args -}}
{{- end -}}

{{/*
vllm-models.router.engineHealthURLs: every engine's /health URL, one per line: the router's readiness
probe (files/router/engines_reachable.py) is Ready while one of them answers.
*/}}
{{- define "vllm-models.router.engineHealthURLs" -}}
{{- $ctx := . -}}
{{- $urls := list -}}
{{- range $m := (include "vllm-models.models" . | fromJson).models -}}
{{- $urls = append $urls (printf "%s/health" (include "vllm-models.model.serviceURL" (dict "context" $ctx "model" $m))) -}}
{{- end -}}
{{- join "\n" $urls -}}
{{- end -}}

{{/*
vllm-models.router.readinessProbe: the router container's readinessProbe. With
router.readiness.requireEngine, the engines_reachable.py exec probe; its timeout covers the probe's
batches of 16 engines at engineTimeoutSeconds each. Otherwise the router's own readiness `path`.
Call with (dict "context" $ "path" <router readiness path>).
*/}}
{{- define "vllm-models.router.readinessProbe" -}}
{{- $r := include "vllm-models.router.values" .context | fromJson -}}
{{- $n := len (include "vllm-models.models" .context | fromJson).models -}}
{{- $timeout := int $r.readiness.engineTimeoutSeconds -}}
{{- if $r.readiness.requireEngine -}}
exec:
  command:
    - python3
    - {{ printf "%s/engines_reachable.py" (include "vllm-models.router.configDir" .) }}
    - {{ printf "%s/engines-health.txt" (include "vllm-models.router.configDir" .) }}
    - {{ $timeout | quote }}
timeoutSeconds: {{ add 3 (mul $timeout (div (add $n 15) 16)) }}
{{- else -}}
httpGet:
  path: {{ .path }}
  port: http
timeoutSeconds: 5
{{- end }}
periodSeconds: 10
{{- end -}}

{{/*
vllm-models.router.configDir: where the router's ConfigMap is mounted.
*/}}
{{- define "vllm-models.router.configDir" -}}
/etc/router
{{- end -}}

{{/*
vllm-models.router.checksum: sha256 of everything that shapes the router pods (config, arguments,
settings), for the pod template annotation: a config change restarts the router.
*/}}
{{- define "vllm-models.router.checksum" -}}
{{- $r := include "vllm-models.router.values" . | fromJson -}}
{{- $config := "" -}}
{{- if eq $r.engine "litellm" -}}
{{- $config = printf "%s\n%s\n%s" (include "vllm-models.router.litellmConfig" .) (include "vllm-models.router.uvicornLogConfig" .) (.Files.Get "files/litellm/vllm_models_hooks.py") -}}
{{- else -}}
{{- $config = include "vllm-models.router.vllmRouterArgs" . -}}
{{- end -}}
{{- $mk := "" -}}
{{- if $r.auth.enabled }}{{ $mk = $r.auth.masterKey.value | default "" | sha256sum }}{{ end -}}
{{- $ek := .Values.engineApiKey.value | default "" | sha256sum -}}
{{- toJson (dict "config" $config "masterKeyValue" $mk "engineApiKeyValue" $ek "engine" $r.engine) | sha256sum -}}
{{- end -}}
