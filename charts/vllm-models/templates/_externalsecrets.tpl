{{/*
External Secrets Operator: which of the chart's secrets an ExternalSecret fills, and into which Secret.
The target is exactly the Secret and key the chart reads without it (`existingSecret`/`secretKey`, else
the Secret it would create from `value`), so the workloads read the same reference either way.
*/}}

{{/*
vllm-models.externalSecrets: JSON `{"items": [...]}`, one item per secret whose
`externalSecrets.<secret>.key` is set, none while `externalSecrets.enabled` is false: `role` (value of
the `vllm-models.io/secret` label, which `vllm-models secret-destination` looks for, and the suffix of
the ExternalSecret's name), `component`, `target` (the Secret), `secretKey`, remote `key` and
`property`. The router master key only while something reads it (router and auth on). Fails when a
secret would have two sources.
*/}}
{{- define "vllm-models.externalSecrets" -}}
{{- $es := .Values.externalSecrets -}}
{{- $items := list -}}
{{- if $es.enabled -}}
{{- if not $es.secretStoreRef.name -}}
{{- fail "externalSecrets.enabled needs externalSecrets.secretStoreRef.name: the SecretStore or ClusterSecretStore that External Secrets Operator reads the secrets from" -}}
{{- end -}}
{{- $r := .Values.router -}}
{{- $secrets := list
  (dict "role" "hf-token" "field" "hfToken" "values" "hfToken" "component" "engine" "chart" .Values.hfToken "read" true
    "created" (include "vllm-models.hfTokenSecretName" .))
  (dict "role" "router-master-key" "field" "routerMasterKey" "values" "router.auth.masterKey" "component" "router" "chart" $r.auth.masterKey "read" (and $r.enabled $r.auth.enabled)
    "created" (include "vllm-models.router.masterKeySecretName" .))
  (dict "role" "engine-api-key" "field" "engineApiKey" "values" "engineApiKey" "component" "engine" "chart" .Values.engineApiKey "read" true
    "created" (include "vllm-models.engineApiKeySecretName" .))
-}}
{{- range $s := $secrets -}}
{{- $remote := get $es $s.field -}}
{{- if and $remote.key $s.read -}}
{{- if $s.chart.value -}}
{{- fail (printf "set only one of %s.value and externalSecrets.%s.key: both would fill the same Secret" $s.values $s.field) -}}
{{- end -}}
{{- $items = append $items (dict "role" $s.role "component" $s.component "target" (default $s.created $s.chart.existingSecret) "secretKey" $s.chart.secretKey "key" $remote.key "property" (default $s.chart.secretKey $remote.property)) -}}
{{- end -}}
{{- end -}}
{{- if not $items -}}
{{- fail "externalSecrets.enabled but no secret to fill: set externalSecrets.hfToken.key, externalSecrets.engineApiKey.key or externalSecrets.routerMasterKey.key (read only with router.enabled and router.auth.enabled)" -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $items) -}}
{{- end -}}

{{/*
vllm-models.externalSecrets.fills: "true" when an ExternalSecret fills the secret `role` (`hf-token`,
`router-master-key`, `engine-api-key`), else empty. Call with (dict "context" $ "role" ..).
*/}}
{{- define "vllm-models.externalSecrets.fills" -}}
{{- range (include "vllm-models.externalSecrets" .context | fromJson).items -}}
{{- if eq .role $.role -}}true{{- end -}}
{{- end -}}
{{- end -}}
