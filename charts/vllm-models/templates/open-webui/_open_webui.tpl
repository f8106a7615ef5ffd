{{/*
Open WebUI (openWebUI.enabled): a chat front end whose only model provider is this release's router.
*/}}

{{/*
vllm-models.openWebUI.check: fails, naming the values to set, when Open WebUI cannot work as configured.
*/}}
{{- define "vllm-models.openWebUI.check" -}}
{{- $o := .Values.openWebUI -}}
{{- if not .Values.router.enabled -}}
{{- fail "openWebUI.enabled needs the router (router.enabled=true): Open WebUI's only model provider is the router Service" -}}
{{- end -}}
{{- if not $o.secretKey.existingSecret -}}
{{- fail "openWebUI.enabled needs openWebUI.secretKey.existingSecret: a Secret holding Open WebUI's own secret key (it signs sessions; the chart never invents one), e.g. kubectl create secret generic open-webui-secret --from-literal=secret-key=\"$(openssl rand -hex 32)\"" -}}
{{- end -}}
{{- end -}}

{{/*
vllm-models.openWebUI.env: the container's environment as a YAML list. The router is the one OpenAI
connection (its key from the router's Secret, never a literal); Ollama, local embedding models and
every download or phone-home at start are off, so the pod boots without reaching the internet.
*/}}
{{- define "vllm-models.openWebUI.env" -}}
{{- $o := .Values.openWebUI -}}
{{- $mk := include "vllm-models.router.masterKeyRef" . | fromJson -}}
# The image's own value, written out so that Open WebUI run from its Python package behaves the same.
- name: ENV
  value: prod
- name: DATA_DIR
  value: {{ include "vllm-models.openWebUI.dataDir" . | quote }}
- name: WEBUI_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $o.secretKey.existingSecret | toString | toYaml }}
      key: {{ $o.secretKey.secretKey | toString | toYaml }}
- name: ENABLE_OPENAI_API
  value: "True"
- name: OPENAI_API_BASE_URL
  value: {{ include "vllm-models.router.baseURL" . | quote }}
{{- if $mk }}
- name: OPENAI_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $mk.name | toString | toYaml }}
      key: {{ $mk.key | toString | toYaml }}
{{- end }}
- name: ENABLE_OLLAMA_API
  value: "False"
# Without an explicit Ollama URL, Open WebUI probes Ollama's ports at start even with Ollama off (in the
# image on host.docker.internal: a DNS lookup that leaves the cluster). Never contacted while off.
- name: OLLAMA_BASE_URL
  value: http://127.0.0.1:11434
# No Hugging Face downloads, no version check, no model auto-updates.
- name: OFFLINE_MODE
  value: "True"
- name: HF_HUB_OFFLINE
  value: "1"
# No local embedding or reranking model (they would load sentence-transformers weights, which the
# offline pod cannot download): attached documents go to the model whole instead of through retrieval.
- name: RAG_EMBEDDING_ENGINE
  value: ""
- name: RAG_EMBEDDING_MODEL
  value: ""
- name: RAG_RERANKING_MODEL
  value: ""
- name: BYPASS_EMBEDDING_AND_RETRIEVAL
  value: "True"
- name: ENABLE_COMMUNITY_SHARING
  value: "False"
- name: ANONYMIZED_TELEMETRY
  value: "False"
- name: DO_NOT_TRACK
  value: "True"
- name: SCARF_NO_ANALYTICS
  value: "True"
{{- with $o.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
vllm-models.openWebUI.dataDir: where the data volume is mounted (`DATA_DIR`, the image's own default).
*/}}
{{- define "vllm-models.openWebUI.dataDir" -}}
/app/backend/data
{{- end -}}
