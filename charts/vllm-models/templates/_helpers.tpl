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
{{- $out := list -}}
{{- $seen := dict -}}
{{- range $i, $raw := .Values.models -}}
{{- $m := include "vllm-models.deepMerge" (dict "base" $ctx.Values.modelDefaults "over" $raw) | fromJson -}}
{{- $name := $m.name | required (printf "models[%d].name is required: the model id used in API requests and resource names" $i) -}}
{{- $url := $m.modelURL | required (printf "models[%d].modelURL is required (model %q): a Hugging Face repo id such as org/name, or an absolute local path" $i $name) -}}
{{- if hasKey $seen $name -}}
{{- fail (printf "models[%d].name %q is used twice: model names must be unique" $i $name) -}}
{{- end -}}
{{- $_ := set $seen $name true -}}
{{- $vc := $m.vllmConfig | default dict -}}
{{- $pp := 1 -}}
{{- if hasKey $vc "pipelineParallelSize" }}{{ $pp = int $vc.pipelineParallelSize }}{{ end -}}
{{- $gpus := 1 -}}
{{- if hasKey $m "requestGPU" -}}
{{- $gpus = int $m.requestGPU -}}
{{- else if hasKey $vc "tensorParallelSize" -}}
{{- $gpus = mul (int $vc.tensorParallelSize) $pp | int -}}
{{- else if hasKey $vc "pipelineParallelSize" -}}
{{- $gpus = $pp -}}
{{- end -}}
{{- $tp := 0 -}}
{{- if hasKey $vc "tensorParallelSize" -}}
{{- $tp = int $vc.tensorParallelSize -}}
{{- else if gt $gpus 1 -}}
{{- $tp = max 1 (div $gpus $pp) | int -}}
{{- end -}}
{{- if and (gt $gpus 0) (gt (mul (max $tp 1) $pp | int) $gpus) -}}
{{- fail (printf "models[%d] (%s): requestGPU is %d but tensorParallelSize x pipelineParallelSize needs %d GPUs; raise requestGPU or lower the parallelism" $i $name $gpus (mul (max $tp 1) $pp)) -}}
{{- end -}}
{{- $replicas := 1 -}}
{{- if hasKey $m "replicaCount" }}{{ $replicas = int $m.replicaCount }}{{ end -}}
{{- $accessMode := $m.pvcAccessMode | default "ReadWriteOnce" -}}
{{- /* weight cache: shared (one claim, a Deployment) or per-replica (a StatefulSet), docs/architecture.md */ -}}
{{- $cacheMode := "shared" -}}
{{- if and (gt $replicas 1) (ne $accessMode "ReadWriteMany") (not $m.existingClaim) -}}
{{- $cacheMode = "per-replica" -}}
{{- end -}}
{{- with $m.cacheMode }}{{ $cacheMode = . }}{{ end -}}
{{- if and (eq $cacheMode "per-replica") $m.existingClaim -}}
{{- fail (printf "models[%d] (%s): cacheMode per-replica cannot use existingClaim %q; set cacheMode: shared or drop existingClaim" $i $name $m.existingClaim) -}}
{{- end -}}
{{- if and (eq $cacheMode "shared") (gt $replicas 1) (ne $accessMode "ReadWriteMany") (not $m.existingClaim) -}}
{{- fail (printf "models[%d] (%s): %d replicas cannot share one %s weight cache (Multi-Attach); set cacheMode: per-replica, pvcAccessMode: ReadWriteMany or an existingClaim" $i $name $replicas $accessMode) -}}
{{- end -}}
{{- $kind := ternary "StatefulSet" "Deployment" (eq $cacheMode "per-replica") -}}
{{- $strategy := $m.strategy | default (ternary "Recreate" "RollingUpdate" (gt $gpus 0)) -}}
{{- $img := $m.image | default dict -}}
{{- $image := dict "repository" ($img.repository | default $ctx.Values.image.repository) "tag" ($img.tag | default $ctx.Values.image.tag) "pullPolicy" ($img.pullPolicy | default $ctx.Values.image.pullPolicy) -}}
{{- $hf := dict -}}
{{- $hfSum := "" -}}
{{- if $m.hfTokenSecret -}}
{{- $hf = dict "name" $m.hfTokenSecret.name "key" $m.hfTokenSecret.key -}}
{{- else if $ctx.Values.hfToken.existingSecret -}}
{{- $hf = dict "name" $ctx.Values.hfToken.existingSecret "key" $ctx.Values.hfToken.secretKey -}}
{{- else if $ctx.Values.hfToken.value -}}
{{- $hf = dict "name" (include "vllm-models.hfTokenSecretName" $ctx) "key" $ctx.Values.hfToken.secretKey -}}
{{- $hfSum = $ctx.Values.hfToken.value | sha256sum -}}
{{- end -}}
{{- $key := dict -}}
{{- $keySum := "" -}}
{{- if $m.apiKeySecret -}}
{{- $key = dict "name" $m.apiKeySecret.name "key" $m.apiKeySecret.key -}}
{{- else if $ctx.Values.engineApiKey.existingSecret -}}
{{- $key = dict "name" $ctx.Values.engineApiKey.existingSecret "key" $ctx.Values.engineApiKey.secretKey -}}
{{- else if $ctx.Values.engineApiKey.value -}}
{{- $key = dict "name" (include "vllm-models.engineApiKeySecretName" $ctx) "key" $ctx.Values.engineApiKey.secretKey -}}
{{- $keySum = $ctx.Values.engineApiKey.value | sha256sum -}}
{{- end -}}
{{- /* engine arguments, in a fixed order; `vllm serve` takes the model as its positional argument */ -}}
{{- $args := list $url -}}
{{- with $m.revision }}{{ $args = append $args (printf "--revision=%s" .) }}{{ end -}}
{{- $args = append $args (printf "--served-model-name=%s" ($m.servedModelName | default $name)) -}}
{{- $args = append $args (printf "--port=%d" (int $ctx.Values.engine.port)) -}}
{{- if hasKey $vc "maxModelLen" }}{{ $args = append $args (printf "--max-model-len=%d" (int $vc.maxModelLen)) }}{{ end -}}
{{- with $vc.dtype }}{{ $args = append $args (printf "--dtype=%s" .) }}{{ end -}}
{{- with $vc.quantization }}{{ $args = append $args (printf "--quantization=%s" .) }}{{ end -}}
{{- if gt $tp 0 }}{{ $args = append $args (printf "--tensor-parallel-size=%d" $tp) }}{{ end -}}
{{- if hasKey $vc "pipelineParallelSize" }}{{ $args = append $args (printf "--pipeline-parallel-size=%d" $pp) }}{{ end -}}
{{- if hasKey $vc "gpuMemoryUtilization" }}{{ $args = append $args (printf "--gpu-memory-utilization=%s" (toString $vc.gpuMemoryUtilization)) }}{{ end -}}
{{- with $vc.kvCacheDtype }}{{ $args = append $args (printf "--kv-cache-dtype=%s" .) }}{{ end -}}
{{- if hasKey $vc "maxNumSeqs" }}{{ $args = append $args (printf "--max-num-seqs=%d" (int $vc.maxNumSeqs)) }}{{ end -}}
{{- if hasKey $vc "maxNumBatchedTokens" }}{{ $args = append $args (printf "--max-num-batched-tokens=%d" (int $vc.maxNumBatchedTokens)) }}{{ end -}}
{{- if hasKey $vc "enablePrefixCaching" -}}
{{- $args = append $args (ternary "--enable-prefix-caching" "--no-enable-prefix-caching" (eq (toString $vc.enablePrefixCaching) "true")) -}}
{{- end -}}
{{- range ($vc.extraArgs | default list) }}{{ $args = append $args (toString .) }}{{ end -}}
{{- $derived := dict "gpus" $gpus "tensorParallelSize" $tp "pipelineParallelSize" $pp "replicas" $replicas "accessMode" $accessMode "cacheMode" $cacheMode "kind" $kind "strategy" $strategy "image" $image "hfTokenSecret" $hf "apiKeySecret" $key "args" $args "servedModelName" ($m.servedModelName | default $name) "localPath" (hasPrefix "/" $url) "startupTimeoutSeconds" (int ($m.startupTimeoutSeconds | default 1800)) -}}
{{- /* checksum: everything that shapes this model's pods, nothing that only scales or prices it */ -}}
{{- $sumInput := dict "model" (omit $m "replicaCount" "podDisruptionBudget" "pricing" "preflight") "derived" (omit $derived "replicas") "engine" $ctx.Values.engine "imagePullSecrets" $ctx.Values.imagePullSecrets "commonLabels" $ctx.Values.commonLabels "hfTokenValue" $hfSum "engineApiKeyValue" $keySum -}}
{{- $_ := set $derived "checksum" (toJson $sumInput | sha256sum) -}}
{{- $_ := set $m "derived" $derived -}}
{{- $out = append $out $m -}}
{{- end -}}
{{- toJson (dict "models" $out) -}}
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
