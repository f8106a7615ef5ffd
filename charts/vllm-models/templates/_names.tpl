{{/*
Names of every object this chart renders. Templates never build a name inline: they include one of
these defines. Every name is at most 63 characters (a DNS label), whatever the release or model name.

Per-model objects share one base name, `<prefix>-<model name>`, where the prefix (the fullname) is cut
so the model name, the part that tells objects apart, always survives. The base name is kept to 52
characters: a StatefulSet adds `-<controller-revision-hash>` (11 characters) to its name in a pod label,
and a suffixed name such as `<base>-cache` must still fit in 63. A model name may be 40 characters
(schemas/models.schema.json), so the prefix keeps at least 11.
*/}}

{{/*
vllm-models.name: the chart name, or `nameOverride`. Value of `app.kubernetes.io/name`.
*/}}
{{- define "vllm-models.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
vllm-models.fullname: the release-based prefix of every name: `fullnameOverride`, else the release name
when it already contains the chart name, else `<release>-<chart>`. At most 63 characters.
*/}}
{{- define "vllm-models.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
vllm-models.chart: `<chart>-<version>`, value of the `helm.sh/chart` label.
*/}}
{{- define "vllm-models.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
vllm-models.suffixed: `<fullname>-<suffix>` with the fullname cut so the whole fits in 63 characters.
Call with (dict "context" $ "suffix" "router").
*/}}
{{- define "vllm-models.suffixed" -}}
{{- $suffix := .suffix -}}
{{- $prefix := include "vllm-models.fullname" .context | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" -}}
{{- printf "%s-%s" $prefix $suffix -}}
{{- end -}}

{{/*
vllm-models.model.fullname: base name of one model's objects (Deployment or StatefulSet, Service,
PodDisruptionBudget, ServiceMonitor): `<prefix>-<model name>`, at most 52 characters, prefix cut first.
Call with (dict "context" $ "model" $model); `model` is a model entry (only `.name` is read).
*/}}
{{- define "vllm-models.model.fullname" -}}
{{- $model := .model.name | required "every entry of `models` needs a `name`" -}}
{{- $room := sub 51 (len $model) | int -}}
{{- $prefix := include "vllm-models.fullname" .context | trunc (int (max $room 0)) | trimSuffix "-" -}}
{{- if $prefix -}}
{{- printf "%s-%s" $prefix $model | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $model | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
vllm-models.model.serviceName: the model's ClusterIP Service, the router's backend address.
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.serviceName" -}}
{{- include "vllm-models.model.fullname" . -}}
{{- end -}}

{{/*
vllm-models.model.workloadName: the model's Deployment, StatefulSet or LeaderWorkerSet.
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.workloadName" -}}
{{- if and .model.derived (eq (.model.derived.kind | default "") "LeaderWorkerSet") -}}
{{- include "vllm-models.model.leaderWorkerSetName" . -}}
{{- else -}}
{{- include "vllm-models.model.fullname" . -}}
{{- end -}}
{{- end -}}

{{/*
vllm-models.model.leaderWorkerSetName: the LeaderWorkerSet of a model that spans nodes,
`<prefix>-<model name>` at most 48 characters, the prefix cut first: its controller names each group's worker StatefulSet `<name>-<group>`, whose pods carry
`<name>-<group>-<controller-revision-hash>` (a 10-character hash) in a label, which must fit in 63.
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.leaderWorkerSetName" -}}
{{- $model := .model.name -}}
{{- $room := sub 47 (len $model) | int -}}
{{- $prefix := include "vllm-models.fullname" .context | trunc (int (max $room 0)) | trimSuffix "-" -}}
{{- if $prefix -}}
{{- printf "%s-%s" $prefix $model | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- $model | trunc 48 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
vllm-models.model.groupNetworkPolicyName: the NetworkPolicy that lets the pods of a multi-node model
reach each other: `<base>-group` (the base name is at most 52 characters).
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.groupNetworkPolicyName" -}}
{{- printf "%s-group" (include "vllm-models.model.fullname" .) -}}
{{- end -}}

{{/*
vllm-models.roleLabel: the label key that tells a LeaderWorkerSet's leader pods (`leader`, the only ones
with an API server, so the only ones the model's Service selects) from its workers (`worker`).
*/}}
{{- define "vllm-models.roleLabel" -}}
vllm-models.io/role
{{- end -}}

{{/*
vllm-models.model.cacheClaimName: the weight-cache PVC the chart creates for a model that runs as a
Deployment: `<base>-cache`. (A StatefulSet's per-replica claims are named by Kubernetes:
`cache-<base>-<ordinal>`, see vllm-models.model.cacheVolumeName.)
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.cacheClaimName" -}}
{{- printf "%s-cache" (include "vllm-models.model.fullname" .) -}}
{{- end -}}

{{/*
vllm-models.model.cacheVolumeName: name of the weight-cache volume in the pod and of the StatefulSet's
volumeClaimTemplate. A constant: changing it would orphan every per-replica cache.
*/}}
{{- define "vllm-models.model.cacheVolumeName" -}}
cache
{{- end -}}

{{/*
vllm-models.model.pdbName: the model's PodDisruptionBudget. Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.pdbName" -}}
{{- include "vllm-models.model.fullname" . -}}
{{- end -}}

{{/*
vllm-models.model.autoscalerName: the model's ScaledObject or HorizontalPodAutoscaler. KEDA names the
HPA it makes for a ScaledObject `keda-hpa-<name>`: 9 + 52 characters still fit in 63.
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.autoscalerName" -}}
{{- include "vllm-models.model.fullname" . -}}
{{- end -}}

{{/*
vllm-models.model.serviceMonitorName: the model's ServiceMonitor. Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.serviceMonitorName" -}}
{{- include "vllm-models.model.fullname" . -}}
{{- end -}}

{{/*
vllm-models.model.serviceURL: a model's engine Service inside the cluster,
`http://<service>.<namespace>.svc.cluster.local:<port>`, where vLLM answers /health and /v1.
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.serviceURL" -}}
{{- printf "http://%s.%s.svc.cluster.local:%d" (include "vllm-models.model.serviceName" .) .context.Release.Namespace (int .context.Values.engine.port) -}}
{{- end -}}

{{/*
vllm-models.model.baseURL: the OpenAI base URL of a model inside the cluster (the router's `api_base`).
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.model.baseURL" -}}
{{- printf "%s/v1" (include "vllm-models.model.serviceURL" .) -}}
{{- end -}}

{{/*
vllm-models.engine.networkPolicyName: the NetworkPolicy that guards all engine pods of the release.
*/}}
{{- define "vllm-models.engine.networkPolicyName" -}}
{{- include "vllm-models.suffixed" (dict "context" . "suffix" "engines") -}}
{{- end -}}

{{/*
vllm-models.hfTokenSecretName: the Secret the chart creates from `hfToken.value` (only then).
*/}}
{{- define "vllm-models.hfTokenSecretName" -}}
{{- include "vllm-models.suffixed" (dict "context" . "suffix" "hf-token") -}}
{{- end -}}

{{/*
vllm-models.engineApiKeySecretName: the Secret the chart creates from `engineApiKey.value` (only then).
*/}}
{{- define "vllm-models.engineApiKeySecretName" -}}
{{- include "vllm-models.suffixed" (dict "context" . "suffix" "engine-api-key") -}}
{{- end -}}

{{/*
vllm-models.router.fullname: the router's Deployment, Service, ConfigMap, ServiceAccount, Role,
RoleBinding, HPA, PDB, Ingress/HTTPRoute and ServiceMonitor: `<fullname>-router`.
*/}}
{{- define "vllm-models.router.fullname" -}}
{{- include "vllm-models.suffixed" (dict "context" . "suffix" "router") -}}
{{- end -}}

{{/*
vllm-models.router.baseURL: the router's OpenAI base URL inside the cluster,
`http://<router service>.<namespace>.svc.cluster.local:<port>/v1` (what Open WebUI talks to).
*/}}
{{- define "vllm-models.router.baseURL" -}}
{{- printf "http://%s.%s.svc.cluster.local:%d/v1" (include "vllm-models.router.fullname" .) .Release.Namespace (int .Values.router.service.port) -}}
{{- end -}}

{{/*
vllm-models.router.masterKeySecretName: the Secret the chart creates from
`router.auth.masterKey.value` (only then): `<fullname>-router-master-key`.
*/}}
{{- define "vllm-models.router.masterKeySecretName" -}}
{{- include "vllm-models.suffixed" (dict "context" . "suffix" "router-master-key") -}}
{{- end -}}

{{/*
vllm-models.grafanaDashboardName: the ConfigMap holding the Grafana dashboard: `<fullname>-dashboard`.
*/}}
{{- define "vllm-models.grafanaDashboardName" -}}
{{- include "vllm-models.suffixed" (dict "context" . "suffix" "dashboard") -}}
{{- end -}}

{{/*
vllm-models.grafanaDashboardUID: the dashboard's Grafana uid (at most 40 characters there), from the
namespace and fullname, so two releases never overwrite each other's dashboard and an upgrade keeps it.
*/}}
{{- define "vllm-models.grafanaDashboardUID" -}}
{{- printf "vllm-models-%s" (printf "%s/%s" .Release.Namespace (include "vllm-models.fullname" .) | sha256sum | trunc 20) -}}
{{- end -}}

{{/*
vllm-models.prometheusRuleName: the PrometheusRule with the release's alerts: `<fullname>-alerts`.
*/}}
{{- define "vllm-models.prometheusRuleName" -}}
{{- include "vllm-models.suffixed" (dict "context" . "suffix" "alerts") -}}
{{- end -}}

{{/*
vllm-models.externalSecretName: the ExternalSecret that fills one of the release's secrets, named like the
Secret the chart would create for it: `<fullname>-<role>`, role `hf-token`, `engine-api-key` or
`router-master-key` (the suffixes of vllm-models.hfTokenSecretName, .engineApiKeySecretName and
.router.masterKeySecretName). Call with (dict "context" $ "role" ..).
*/}}
{{- define "vllm-models.externalSecretName" -}}
{{- include "vllm-models.suffixed" (dict "context" .context "suffix" .role) -}}
{{- end -}}

{{/*
vllm-models.openWebUI.fullname: Open WebUI's Deployment, Service and NetworkPolicy: `<fullname>-open-webui`.
*/}}
{{- define "vllm-models.openWebUI.fullname" -}}
{{- include "vllm-models.suffixed" (dict "context" . "suffix" "open-webui") -}}
{{- end -}}

{{/*
vllm-models.openWebUI.dataClaimName: the PVC of Open WebUI's data (users, chats, settings, uploads):
`<fullname>-open-webui-data`, unless `openWebUI.persistence.existingClaim` names one.
*/}}
{{- define "vllm-models.openWebUI.dataClaimName" -}}
{{- .Values.openWebUI.persistence.existingClaim | default (include "vllm-models.suffixed" (dict "context" . "suffix" "open-webui-data")) -}}
{{- end -}}

{{/*
vllm-models.inferencePool.name: a model's InferencePool and its HTTPRoute: the model's base name (other
kinds, so no clash with its Service). Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.inferencePool.name" -}}
{{- include "vllm-models.model.fullname" . -}}
{{- end -}}

{{/*
vllm-models.inferencePool.eppName: the endpoint picker of a model's InferencePool (Deployment, Service,
ServiceAccount, Role, RoleBinding, ConfigMap): `<base>-epp`, at most 56 characters.
Call with (dict "context" $ "model" $model).
*/}}
{{- define "vllm-models.inferencePool.eppName" -}}
{{- printf "%s-epp" (include "vllm-models.model.fullname" .) -}}
{{- end -}}
