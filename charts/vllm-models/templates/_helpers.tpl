{{/*
vllm-models.deepMerge: `over` merged onto `base`, maps merged key by key, everything else (lists,
false, 0, "") replaced by the value from `over`. Unlike sprig's merge/mergeOverwrite, an explicit
`false` or `0` in a model wins over `modelDefaults`. Returns JSON; call with (dict "base" .. "over" ..).
*/}}
{{- define "vllm-models.deepMerge" -}}
{{- $base := deepCopy (.base | default dict) -}}
{{- range $k, $v := (.over | default dict) -}}
{{- $cur := get $base $k -}}
{{- if and (kindIs "map" $v) (kindIs "map" $cur) -}}
{{- $_ := set $base $k (include "vllm-models.deepMerge" (dict "base" $cur "over" $v) | fromJson) -}}
{{- else -}}
{{- $_ := set $base $k $v -}}
{{- end -}}
{{- end -}}
{{- toJson $base -}}
{{- end -}}

{{/*
vllm-models.models: every entry of `models` merged over `modelDefaults`, checked, and completed with a
`derived` map the templates read (GPU count, parallelism, strategy, workload kind, image, secret
references, engine arguments, checksum). Returns JSON `{"models": [...]}`; numbers come back as floats,
so templates print them through `int`.

Derived once per render: the first call stores the JSON under a scratch key of `.Values` (the one map every
template of a render shares; values were validated against the schema before rendering), and every later
call (each model template, the router, NOTES.txt) returns it, so the cost is linear in the models.
*/}}
{{- define "vllm-models.models" -}}
{{- if not (hasKey .Values "__vllmModelsDerived") -}}
{{- $_ := set .Values "__vllmModelsDerived" (include "vllm-models.models.derive" .) -}}
{{- end -}}
{{- index .Values "__vllmModelsDerived" -}}
{{- end -}}

{{- define "vllm-models.models.derive" -}}
{{- $ctx := . -}}
{{- if not .Values.models -}}
{{- fail "`models` must list at least one model, e.g. models: [{name: llama3, modelURL: meta-llama/Llama-3.2-3B-Instruct}]" -}}
{{- end -}}
{{- $defaults := include "vllm-models.deepMerge" (dict "base" (include "vllm-models.modelSchemaDefaults" . | fromJson) "over" .Values.modelDefaults) | fromJson -}}
{{- $out := list -}}
{{- $seen := dict -}}
{{- /* model ids the router lists (names and served names): adapters must not take one */ -}}
{{- range $i, $raw := .Values.models -}}
{{- range $key := list "name" "servedModelName" -}}
{{- with (get $raw $key) }}{{ if not (hasKey $seen (printf "id:%s" .)) }}{{ $_ := set $seen (printf "id:%s" .) (printf "models[%d].%s" $i $key) }}{{ end }}{{ end -}}
{{- end -}}
{{- end -}}
{{- range $i, $raw := .Values.models -}}
{{- $m := include "vllm-models.deepMerge" (dict "base" $defaults "over" $raw) | fromJson -}}
{{- $name := $m.name | required (printf "models[%d].name is required: the model id used in API requests and resource names" $i) -}}
{{- $url := $m.modelURL | required (printf "models[%d].modelURL is required (model %q): a Hugging Face repo id such as org/name, or an absolute local path" $i $name) -}}
{{- if hasKey $seen $name -}}
{{- fail (printf "models[%d].name %q is used twice: model names must be unique" $i $name) -}}
{{- end -}}
{{- $_ := set $seen $name true -}}
{{- $where := dict "index" $i "model" $m -}}
{{- $derived := include "vllm-models.model.parallelism" $where | fromJson -}}
{{- $_ := set $derived "autoscaling" (include "vllm-models.model.autoscaling" (dict "context" $ctx "index" $i "model" $m) | fromJson) -}}
{{- $_ := set $where "autoscaling" $derived.autoscaling -}}
{{- $_ := set $where "nodes" $derived.nodes -}}
{{- $derived = merge $derived (include "vllm-models.model.cache" $where | fromJson) -}}
{{- $derived = merge $derived (include "vllm-models.model.secretRefs" (dict "context" $ctx "model" $m) | fromJson) -}}
{{- $img := $m.image | default dict -}}
{{- $_ := set $derived "image" (dict "repository" ($img.repository | default $ctx.Values.image.repository) "tag" ($img.tag | default $ctx.Values.image.tag) "pullPolicy" ($img.pullPolicy | default $ctx.Values.image.pullPolicy)) -}}
{{- $_ := set $derived "strategy" ($m.strategy | default (ternary "Recreate" "RollingUpdate" (gt (int $derived.gpus) 0))) -}}
{{- $_ := set $derived "servedModelName" ($m.servedModelName | default $name) -}}
{{- $_ := set $derived "localPath" (hasPrefix "/" $url) -}}
{{- $_ := set $derived "startupTimeoutSeconds" (int $m.startupTimeoutSeconds) -}}
{{- $_ := set $derived "loraAdapters" (include "vllm-models.model.loraAdapters" (dict "context" $ctx "index" $i "model" $m "seen" $seen) | fromJsonArray) -}}
{{- if $m.loraAdapters -}}
{{- $limits := include "vllm-models.model.loraLimits" $m | fromJson -}}
{{- $_ := set $m.vllmConfig "maxLoras" ($m.vllmConfig.maxLoras | default $limits.maxLoras) -}}
{{- $_ := set $m.vllmConfig "maxLoraRank" ($m.vllmConfig.maxLoraRank | default $limits.maxLoraRank) -}}
{{- end -}}
{{- $_ := set $derived "args" (include "vllm-models.model.engineArgs" (dict "context" $ctx "model" $m "derived" $derived) | fromJsonArray) -}}
{{- /* the model as `vllm-models generate` expands it (expand.py), so both render the same checksum */ -}}
{{- $_ := set $m "requestGPU" $derived.gpus -}}
{{- $_ := set $m "servedModelName" $derived.servedModelName -}}
{{- $_ := set $m "strategy" $derived.strategy -}}
{{- $_ := set $m "cacheMode" $derived.cacheMode -}}
{{- if gt (int $derived.tensorParallelSize) 0 }}{{ $_ := set $m.vllmConfig "tensorParallelSize" $derived.tensorParallelSize }}{{ end -}}
{{- /* checksum: everything that shapes this model's pods, nothing that only scales or prices it; the
Secret values only as hashes, so a rotated key restarts the engines that read it */ -}}
{{- $secretSums := dict "hfTokenValue" $derived.hfTokenValueSum "engineApiKeyValue" $derived.engineApiKeyValueSum -}}
{{- $derived = omit $derived "hfTokenValueSum" "engineApiKeyValueSum" -}}
{{- /* gpusPerNode and the per-pod split shape nothing on one node; leaving them out keeps those checksums */ -}}
{{- $sumModel := omit $m "replicaCount" "podDisruptionBudget" "autoscaling" "pricing" "preflight" -}}
{{- $sumDerived := omit $derived "replicas" "autoscaling" -}}
{{- if eq (int $derived.nodes) 1 }}{{ $sumModel = omit $sumModel "gpusPerNode" }}{{ $sumDerived = omit $sumDerived "nodes" "podGPUs" }}{{ end -}}
{{- $sumInput := dict "model" $sumModel "derived" $sumDerived "engine" $ctx.Values.engine "imagePullSecrets" $ctx.Values.imagePullSecrets "commonLabels" $ctx.Values.commonLabels "secrets" $secretSums -}}
{{- $_ := set $derived "checksum" (toJson $sumInput | sha256sum) -}}
{{- $_ := set $m "derived" $derived -}}
{{- $out = append $out $m -}}
{{- end -}}
{{- toJson (dict "models" $out) -}}
{{- end -}}

{{/*
vllm-models.model.parallelism: GPUs per replica, vLLM's tensor and pipeline parallel sizes, the nodes a
replica spans and the GPUs each of its pods requests, from a merged model (dict "index" .. "model" ..). The rule is the generator's (checks.py): a written
`requestGPU` must equal tensorParallelSize x pipelineParallelSize, or be a multiple of the pipeline
size when the tensor size is derived; unwritten, it is their product. JSON.
*/}}
{{- define "vllm-models.model.parallelism" -}}
{{- $m := .model -}}
{{- $vc := $m.vllmConfig -}}
{{- $pp := int $vc.pipelineParallelSize -}}
{{- $tpWritten := hasKey $vc "tensorParallelSize" -}}
{{- $gpus := mul (int ($vc.tensorParallelSize | default 1)) $pp | int -}}
{{- if hasKey $m "requestGPU" -}}
{{- $gpus = int $m.requestGPU -}}
{{- if and $tpWritten (ne (mul (int $vc.tensorParallelSize) $pp | int) $gpus) -}}
{{- fail (printf "models[%d] (%s): requestGPU is %d but vllmConfig.tensorParallelSize x pipelineParallelSize is %d x %d = %d; vLLM needs exactly that many GPUs per replica" .index $m.name $gpus (int $vc.tensorParallelSize) $pp (mul (int $vc.tensorParallelSize) $pp)) -}}
{{- end -}}
{{- if and (not $tpWritten) (gt $gpus 0) (ne (mod $gpus $pp) 0) -}}
{{- fail (printf "models[%d] (%s): requestGPU %d is not a multiple of vllmConfig.pipelineParallelSize %d" .index $m.name $gpus $pp) -}}
{{- end -}}
{{- if and (not $tpWritten) (eq $gpus 0) (gt $pp 1) -}}
{{- fail (printf "models[%d] (%s): vllmConfig.pipelineParallelSize %d needs GPUs, but requestGPU is 0" .index $m.name $pp) -}}
{{- end -}}
{{- end -}}
{{- $tp := 0 -}}
{{- if $tpWritten -}}
{{- $tp = int $vc.tensorParallelSize -}}
{{- else if gt $gpus 0 -}}
{{- $tp = div $gpus $pp | int -}}
{{- end -}}
{{- /* a replica wider than one node spans nodes of gpusPerNode GPUs each (the generator's _multi_node) */ -}}
{{- $perNode := int $m.gpusPerNode -}}
{{- $nodes := 1 -}}
{{- if gt $gpus $perNode -}}
{{- if ne (mod $gpus $perNode) 0 -}}
{{- fail (printf "models[%d] (%s): the model needs %d GPUs per replica, more than one node's gpusPerNode %d, and %d is not a multiple of %d: vLLM spreads a replica over nodes of equal size; set gpusPerNode to a divisor of %d or change the parallel sizes" .index $m.name $gpus $perNode $gpus $perNode $gpus) -}}
{{- end -}}
{{- $nodes = div $gpus $perNode | int -}}
{{- if and $m.autoscaling $m.autoscaling.enabled -}}
{{- fail (printf "models[%d] (%s): autoscaling.enabled: the model spans %d nodes (a LeaderWorkerSet), which the chart does not autoscale; set replicaCount instead" .index $m.name $nodes) -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "gpus" $gpus "tensorParallelSize" $tp "pipelineParallelSize" $pp "nodes" $nodes "podGPUs" (ternary $gpus $perNode (eq $nodes 1))) -}}
{{- end -}}

{{/*
vllm-models.model.autoscaling: the model's autoscaler settings, checked: `enabled`, `minReplicas`,
`maxReplicas`, `metric`, `target` (the generator's rules, autoscaling.py). The target defaults per
metric: 5 queued requests, 0.8 of the KV cache; running requests have no default. JSON;
(dict "context" .. "index" .. "model" ..).
*/}}
{{- define "vllm-models.model.autoscaling" -}}
{{- $a := .model.autoscaling | default dict -}}
{{- $where := printf "models[%d] (%s): autoscaling" .index .model.name -}}
{{- if not $a.enabled -}}
{{- toJson (dict "enabled" false) -}}
{{- else -}}
{{- $provider := .context.Values.autoscaling.provider -}}
{{- $min := hasKey $a "minReplicas" | ternary $a.minReplicas 1 | int -}}
{{- if not (hasKey $a "maxReplicas") -}}
{{- fail (printf "%s.maxReplicas is required when autoscaling.enabled: the most replicas (GPUs and caches are sized for it)" $where) -}}
{{- end -}}
{{- $max := int $a.maxReplicas -}}
{{- if gt $min $max -}}
{{- fail (printf "%s.minReplicas %d is above maxReplicas %d" $where $min $max) -}}
{{- end -}}
{{- if and (eq $min 0) (ne $provider "keda") -}}
{{- fail (printf "%s.minReplicas 0 (scale to zero) needs autoscaling.provider keda; a HorizontalPodAutoscaler cannot scale to 0 without the HPAScaleToZero feature gate: set minReplicas 1 or use keda" $where) -}}
{{- end -}}
{{- $metric := $a.metric | default "vllm:num_requests_waiting" -}}
{{- $defaults := dict "vllm:num_requests_waiting" 5 "vllm:kv_cache_usage_perc" 0.8 -}}
{{- if not (or (hasKey $a "target") (hasKey $defaults $metric)) -}}
{{- fail (printf "%s.target is required with metric %s: the running requests per replica to aim for, e.g. 3/4 of vllmConfig.maxNumSeqs" $where $metric) -}}
{{- end -}}
{{- $target := hasKey $a "target" | ternary $a.target (get $defaults $metric) -}}
{{- if and (eq $metric "vllm:kv_cache_usage_perc") (gt (float64 $target) 1.0) -}}
{{- fail (printf "%s.target %v is above 1: vllm:kv_cache_usage_perc is a fraction (0.8 = 80%% of the KV cache)" $where $target) -}}
{{- end -}}
{{- if and (eq $provider "keda") (not .context.Values.autoscaling.prometheus.serverAddress) -}}
{{- fail (printf "%s: autoscaling.prometheus.serverAddress is required with autoscaling.provider keda (the Prometheus that scrapes the engines, e.g. http://prometheus-operated.monitoring.svc:9090)" $where) -}}
{{- end -}}
{{- toJson (dict "enabled" true "provider" $provider "minReplicas" $min "maxReplicas" $max "metric" $metric "target" $target) -}}
{{- end -}}
{{- end -}}

{{/*
vllm-models.model.cache: replicas and the weight cache: one claim shared by every replica (a
Deployment) or one per replica (a StatefulSet) when several replicas cannot mount one volume
(docs/architecture.md); a model spanning several nodes is a LeaderWorkerSet, its caches counted per pod.
An autoscaled model is sized for its maxReplicas. JSON; call with
(dict "index" .. "model" .. "autoscaling" .. "nodes" ..).
*/}}
{{- define "vllm-models.model.cache" -}}
{{- $m := .model -}}
{{- $replicas := int $m.replicaCount -}}
{{- /* every pod loads the weights: a multi-node replica counts once per node */ -}}
{{- $top := mul (.autoscaling.enabled | ternary .autoscaling.maxReplicas $replicas) .nodes | int -}}
{{- $cacheMode := "shared" -}}
{{- if and (gt $top 1) (ne $m.pvcAccessMode "ReadWriteMany") (not $m.existingClaim) -}}
{{- $cacheMode = "per-replica" -}}
{{- end -}}
{{- with $m.cacheMode }}{{ $cacheMode = . }}{{ end -}}
{{- if and (eq $cacheMode "per-replica") $m.existingClaim -}}
{{- fail (printf "models[%d] (%s): cacheMode per-replica cannot use existingClaim %q; set cacheMode: shared or drop existingClaim" .index $m.name $m.existingClaim) -}}
{{- end -}}
{{- if and (eq $cacheMode "shared") (gt $top 1) (ne $m.pvcAccessMode "ReadWriteMany") (not $m.existingClaim) -}}
{{- fail (printf "models[%d] (%s): %d pods cannot share one %s weight cache (Multi-Attach); set cacheMode: per-replica, pvcAccessMode: ReadWriteMany or an existingClaim" .index $m.name $top $m.pvcAccessMode) -}}
{{- end -}}
{{- $kind := ternary "StatefulSet" "Deployment" (eq $cacheMode "per-replica") -}}
{{- if gt (int .nodes) 1 }}{{ $kind = "LeaderWorkerSet" }}{{ end -}}
{{- toJson (dict "replicas" $replicas "accessMode" $m.pvcAccessMode "cacheMode" $cacheMode "kind" $kind) -}}
{{- end -}}

{{/*
vllm-models.model.secretRefs: the Secret (name, key) each engine pod reads its Hugging Face token and
API key from: the model's own, else the chart-wide existing Secret, else the Secret the chart creates
from a literal value (then also the value's hash, for the checksum), else the Secret an ExternalSecret
fills under that same name. JSON; (dict "context" .. "model" ..).
*/}}
{{- define "vllm-models.model.secretRefs" -}}
{{- $out := dict -}}
{{- $hfToken := dict "model" "hfTokenSecret" "sum" "hfTokenValueSum" "chart" .context.Values.hfToken "created" (include "vllm-models.hfTokenSecretName" .context) "role" "hf-token" -}}
{{- $engineApiKey := dict "model" "apiKeySecret" "sum" "engineApiKeyValueSum" "chart" .context.Values.engineApiKey "created" (include "vllm-models.engineApiKeySecretName" .context) "role" "engine-api-key" -}}
{{- range $field := list $hfToken $engineApiKey -}}
{{- $ref := dict -}}
{{- $sum := "" -}}
{{- $own := get $.model $field.model -}}
{{- if $own -}}
{{- $ref = dict "name" $own.name "key" $own.key -}}
{{- else if $field.chart.existingSecret -}}
{{- $ref = dict "name" $field.chart.existingSecret "key" $field.chart.secretKey -}}
{{- else if $field.chart.value -}}
{{- $ref = dict "name" $field.created "key" $field.chart.secretKey -}}
{{- $sum = $field.chart.value | sha256sum -}}
{{- else if include "vllm-models.externalSecrets.fills" (dict "context" $.context "role" $field.role) -}}
{{- $ref = dict "name" $field.created "key" $field.chart.secretKey -}}
{{- end -}}
{{- $_ := set $out $field.model $ref -}}
{{- $_ := set $out $field.sum $sum -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
vllm-models.model.engineArgs: the `vllm serve` arguments, in a fixed order, the model first (the
positional argument). JSON list; (dict "context" .. "model" .. "derived" ..).
*/}}
{{- define "vllm-models.model.engineArgs" -}}
{{- $m := .model -}}
{{- $vc := $m.vllmConfig -}}
{{- $args := list $m.modelURL -}}
{{- with $m.revision }}{{ $args = append $args (printf "--revision=%s" .) }}{{ end -}}
{{- $args = append $args (printf "--served-model-name=%s" .derived.servedModelName) -}}
{{- $args = append $args (printf "--port=%d" (int .context.Values.engine.port)) -}}
{{- if hasKey $vc "maxModelLen" }}{{ $args = append $args (printf "--max-model-len=%d" (int $vc.maxModelLen)) }}{{ end -}}
{{- with $vc.dtype }}{{ $args = append $args (printf "--dtype=%s" .) }}{{ end -}}
{{- with $vc.quantization }}{{ $args = append $args (printf "--quantization=%s" .) }}{{ end -}}
{{- if gt (int .derived.tensorParallelSize) 0 }}{{ $args = append $args (printf "--tensor-parallel-size=%d" (int .derived.tensorParallelSize)) }}{{ end -}}
{{- $args = append $args (printf "--pipeline-parallel-size=%d" (int .derived.pipelineParallelSize)) -}}
{{- if hasKey $vc "gpuMemoryUtilization" }}{{ $args = append $args (printf "--gpu-memory-utilization=%s" (toString $vc.gpuMemoryUtilization)) }}{{ end -}}
{{- with $vc.kvCacheDtype }}{{ $args = append $args (printf "--kv-cache-dtype=%s" .) }}{{ end -}}
{{- if hasKey $vc "maxNumSeqs" }}{{ $args = append $args (printf "--max-num-seqs=%d" (int $vc.maxNumSeqs)) }}{{ end -}}
{{- if hasKey $vc "maxNumBatchedTokens" }}{{ $args = append $args (printf "--max-num-batched-tokens=%d" (int $vc.maxNumBatchedTokens)) }}{{ end -}}
{{- if hasKey $vc "enablePrefixCaching" -}}
{{- $args = append $args (ternary "--enable-prefix-caching" "--no-enable-prefix-caching" (eq (toString $vc.enablePrefixCaching) "true")) -}}
{{- end -}}
{{- with .derived.loraAdapters -}}
{{- $args = concat $args (list "--enable-lora" (printf "--max-loras=%d" (int $vc.maxLoras)) (printf "--max-lora-rank=%d" (int $vc.maxLoraRank))) -}}
{{- /* one --lora-modules with every adapter: vLLM keeps only the last of repeated ones */ -}}
{{- $args = append $args "--lora-modules" -}}
{{- range . }}{{ $args = append $args (printf "%s=%s" .name .path) }}{{ end -}}
{{- end -}}
{{- /* vLLM's native multi-node launch (multiprocessing executor, no Ray): every pod of a group runs the
same command with its node rank; LeaderWorkerSet puts the leader's address and each pod's index in its
environment, and the kubelet expands $(VAR) in args; the workers reach the leader on vLLM's default
--master-port (29501). Workers add --headless (no API server). */ -}}
{{- if gt (int .derived.nodes) 1 -}}
{{- $args = concat $args (list "--distributed-executor-backend=mp" (printf "--nnodes=%d" (int .derived.nodes)) "--node-rank=$(LWS_WORKER_INDEX)" "--master-addr=$(LWS_LEADER_ADDRESS)") -}}
{{- end -}}
{{- range $vc.extraArgs }}{{ $args = append $args (toString .) }}{{ end -}}
{{- toJson $args -}}
{{- end -}}

{{/*
vllm-models.model.loraAdapters: the model's LoRA adapters as the engine and the stage-weights container
use them: `{name, source, revision, path, staged}`. `path` is what --lora-modules names: for a repo id, a
link in the weight cache that stage-weights points at the staged snapshot of the pinned revision; for a
local path, that path. With staging off, vLLM fetches a repo id itself (its default revision only).
Fails on an adapter name another model or adapter already uses (they share the router's model list).
JSON list; (dict "context" .. "index" .. "model" .. "seen" ..), `seen` collecting names across models.
*/}}
{{- define "vllm-models.model.loraAdapters" -}}
{{- $ctx := .context -}}
{{- $out := list -}}
{{- $staging := $ctx.Values.engine.stageWeights.enabled -}}
{{- range $j, $a := .model.loraAdapters -}}
{{- $where := printf "models[%d].loraAdapters[%d]" $.index $j -}}
{{- $name := $a.name | required (printf "%s.name is required: the model id clients send to use the adapter" $where) -}}
{{- $source := $a.source | required (printf "%s.source is required (adapter %q): a Hugging Face repo id such as org/name, or an absolute local path" $where $name) -}}
{{- with get $.seen (printf "id:%s" $name) -}}
{{- fail (printf "%s.name %q is already the model id of %s: adapters and models share the router's model list" $where $name .) -}}
{{- end -}}
{{- with get $.seen (printf "adapter:%s" $name) -}}
{{- fail (printf "%s.name %q is used twice (first at %s): adapters and models share the router's model list" $where $name .) -}}
{{- end -}}
{{- $_ := set $.seen (printf "adapter:%s" $name) $where -}}
{{- $local := hasPrefix "/" $source -}}
{{- if and $local $a.revision -}}
{{- fail (printf "%s (adapter %q): revision pins a Hugging Face repo id, but source %q is a local path" $where $name $source) -}}
{{- end -}}
{{- $path := $source -}}
{{- if and (not $local) $staging -}}
{{- $path = printf "%s/vllm-models-lora/%s" $ctx.Values.engine.cacheMountPath $name -}}
{{- else if and (not $local) $a.revision -}}
{{- fail (printf "%s (adapter %q): engine.stageWeights.enabled=false leaves the download to vLLM, which fetches an adapter only at its default revision; unset revision or enable stageWeights" $where $name) -}}
{{- end -}}
{{- $out = append $out (dict "name" $name "source" $source "revision" ($a.revision | default "") "path" $path "staged" (and (not $local) $staging)) -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
vllm-models.model.loraLimits: the engine's LoRA limits when not written (the generator's lora.py):
`maxLoras` one slot per adapter, `maxLoraRank` the smallest size vLLM accepts that holds every declared
adapter `rank`, else vLLM's 16. JSON; call with the merged model.
*/}}
{{- define "vllm-models.model.loraLimits" -}}
{{- $maxRank := 0 -}}
{{- range .loraAdapters }}{{ if hasKey . "rank" }}{{ $maxRank = max $maxRank (int .rank) }}{{ end }}{{ end -}}
{{- $rank := 16 -}}
{{- if gt (int $maxRank) 0 -}}
{{- $rank = 512 -}}
{{- range $size := list 512 320 256 128 64 32 16 8 1 }}{{ if ge $size (int $maxRank) }}{{ $rank = $size }}{{ end }}{{ end -}}
{{- end -}}
{{- toJson (dict "maxLoras" (len .loraAdapters) "maxLoraRank" $rank) -}}
{{- end -}}

{{/*
vllm-models.cacheAnnotations: what keeps a weight cache when Argo CD manages the release: Prune=false
(a model removed from git), Delete=false (the Application deleted with its finalizer), and
IgnoreExtraneous so a kept cache does not hold the Application OutOfSync.
*/}}
{{- define "vllm-models.cacheAnnotations" -}}
argocd.argoproj.io/sync-options: Prune=false,Delete=false
argocd.argoproj.io/compare-options: IgnoreExtraneous
{{- end -}}

{{/*
vllm-models.model.nodeSelector: `nvidia.com/gpu.product` from gpuProduct plus the model's nodeSelector.
*/}}
{{- define "vllm-models.model.nodeSelector" -}}
{{- $sel := deepCopy (.nodeSelector | default dict) -}}
{{- with .gpuProduct }}{{ $_ := set $sel "nvidia.com/gpu.product" . }}{{ end -}}
{{- if $sel }}{{ toYaml $sel }}{{ end -}}
{{- end -}}

{{/*
vllm-models.quantity: a resource quantity (number or string) as a quoted string.
*/}}
{{- define "vllm-models.quantity" -}}
{{- if kindIs "string" . -}}
{{- quote . -}}
{{- else if eq (float64 .) (float64 (int64 .)) -}}
{{- int64 . | toString | quote -}}
{{- else -}}
{{- toString . | quote -}}
{{- end -}}
{{- end -}}

{{/*
vllm-models.decimal: a number in plain decimal notation, e.g. 0.0000005 (not 5e-07, which PyYAML, and
so LiteLLM, reads as a string). For per-token prices in the router config.
*/}}
{{- define "vllm-models.decimal" -}}
{{- regexReplaceAll "\\.?0+$" (printf "%.15f" (float64 .)) "" -}}
{{- end -}}
