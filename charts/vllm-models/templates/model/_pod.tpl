{{/*
vllm-models.model.podTemplate: the engine pod of one model, shared by its Deployment, StatefulSet and
LeaderWorkerSet. Call with (dict "context" $ "model" $m) where $m is an entry of vllm-models.models, plus
"role" "leader" or "worker" for a LeaderWorkerSet's two templates. A shared cache mounts the model's one
claim; a StatefulSet or LeaderWorkerSet gets the `cache` volume from its volumeClaimTemplates. A worker
runs the engine headless (no API server), so it has no port and no HTTP probes.
*/}}
{{- define "vllm-models.model.podTemplate" -}}
{{- $ctx := .context -}}
{{- $m := .model -}}
{{- $d := $m.derived -}}
{{- $cacheVolume := include "vllm-models.model.cacheVolumeName" $ctx -}}
{{- $image := printf "%s:%s" $d.image.repository $d.image.tag -}}
{{- $hfHome := $ctx.Values.engine.cacheMountPath -}}
{{- $role := .role | default "" -}}
{{- $args := $d.args -}}
{{- if eq $role "worker" }}{{ $args = append $args "--headless" }}{{ end -}}
metadata:
  labels:
    {{- include "vllm-models.labels" (dict "context" $ctx "component" "engine" "model" $m "pod" true) | nindent 4 }}
    {{- with $role }}
    {{ include "vllm-models.roleLabel" $ctx }}: {{ . }}
    {{- end }}
  annotations:
    checksum/config: {{ $d.checksum }}
    {{- with $m.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with $ctx.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  automountServiceAccountToken: false
  {{- /* service links would put e.g. VLLM_PORT=tcp://... (from a Service named vllm) into vLLM's own env namespace */}}
  enableServiceLinks: false
  {{- with $ctx.Values.engine.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $m.runtimeClassName }}
  runtimeClassName: {{ . }}
  {{- end }}
  {{- with $m.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ int $ctx.Values.engine.terminationGracePeriodSeconds }}
  {{- with (include "vllm-models.model.nodeSelector" $m) }}
  nodeSelector:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with $m.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $tolerations := concat (ternary $ctx.Values.engine.gpuTolerations list (gt (int $d.gpus) 0)) ($m.tolerations | default list) }}
  {{- with $tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- /* staging runs for the base weights (unless a local path) and for every adapter from the hub */}}
  {{- $stageBase := and $ctx.Values.engine.stageWeights.enabled (not $d.localPath) }}
  {{- $stagedAdapters := list }}
  {{- range $d.loraAdapters }}{{ if .staged }}{{ $stagedAdapters = append $stagedAdapters (omit . "staged") }}{{ end }}{{ end }}
  {{- $stage := or $stageBase (gt (len $stagedAdapters) 0) }}
  {{- if $stage }}
  initContainers:
    - name: stage-weights
      image: {{ $image | quote }}
      imagePullPolicy: {{ $d.image.pullPolicy }}
      command:
        - python3
        - -c
        - |
          {{- $ctx.Files.Get "files/model/stage-weights.py" | nindent 10 }}
      env:
        {{- if $stageBase }}
        - name: MODEL_ID
          value: {{ $m.modelURL | quote }}
        {{- with $m.revision }}
        - name: MODEL_REVISION
          value: {{ . | quote }}
        {{- end }}
        {{- end }}
        {{- with $stagedAdapters }}
        # [{name, source, revision, path}]: each adapter staged, then linked at the path --lora-modules names
        - name: LORA_ADAPTERS
          value: {{ toJson . | quote }}
        {{- end }}
        - name: HF_HOME
          value: {{ $hfHome | quote }}
        {{- with $d.hfTokenSecret }}
        - name: HF_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ .name | toString | toYaml }}
              key: {{ .key | toString | toYaml }}
        {{- end }}
        # Where the script leaves its failure for `kubectl describe`: the container's message path,
        # named once here so the script never hard-codes a host path.
        - name: TERMINATION_MESSAGE_PATH
          value: /dev/termination-log
      terminationMessagePath: /dev/termination-log
      terminationMessagePolicy: FallbackToLogsOnError
      {{- with $ctx.Values.engine.stageWeights.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $ctx.Values.engine.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: {{ $cacheVolume }}
          mountPath: {{ $hfHome }}
  {{- end }}
  containers:
    - name: vllm
      image: {{ $image | quote }}
      imagePullPolicy: {{ $d.image.pullPolicy }}
      {{- with $ctx.Values.engine.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      args:
        {{- range $args }}
        - {{ . | quote }}
        {{- end }}
      env:
        - name: HF_HOME
          value: {{ $hfHome | quote }}
        {{- if or $stage $d.localPath }}
        - name: HF_HUB_OFFLINE
          value: "1"
        - name: TRANSFORMERS_OFFLINE
          value: "1"
        {{- else }}
        {{- /* staging is off: the engine downloads the weights itself and needs the token */}}
        {{- with $d.hfTokenSecret }}
        - name: HF_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ .name | toString | toYaml }}
              key: {{ .key | toString | toYaml }}
        {{- end }}
        {{- end }}
        {{- with $d.apiKeySecret }}
        - name: VLLM_API_KEY
          valueFrom:
            secretKeyRef:
              name: {{ .name | toString | toYaml }}
              key: {{ .key | toString | toYaml }}
        {{- end }}
        {{- with $m.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- if ne $role "worker" }}
      ports:
        - name: http
          containerPort: {{ int $ctx.Values.engine.port }}
          protocol: TCP
      {{- $probe := $ctx.Values.engine.probes }}
      startupProbe:
        httpGet:
          path: /health
          port: http
        periodSeconds: {{ int $probe.startup.periodSeconds }}
        timeoutSeconds: {{ int $probe.startup.timeoutSeconds }}
        failureThreshold: {{ div (add $d.startupTimeoutSeconds $probe.startup.periodSeconds -1) $probe.startup.periodSeconds }}
      readinessProbe:
        httpGet:
          path: /health
          port: http
        periodSeconds: {{ int $probe.readiness.periodSeconds }}
        timeoutSeconds: {{ int $probe.readiness.timeoutSeconds }}
        failureThreshold: {{ int $probe.readiness.failureThreshold }}
      livenessProbe:
        httpGet:
          path: /health
          port: http
        periodSeconds: {{ int $probe.liveness.periodSeconds }}
        timeoutSeconds: {{ int $probe.liveness.timeoutSeconds }}
        failureThreshold: {{ int $probe.liveness.failureThreshold }}
      {{- end }}
      resources:
        requests:
          cpu: {{ include "vllm-models.quantity" $m.requestCPU }}
          memory: {{ include "vllm-models.quantity" $m.requestMemory }}
          {{- if gt (int $d.gpus) 0 }}
          nvidia.com/gpu: {{ int $d.podGPUs | toString | quote }}
          {{- end }}
        {{- if or $m.limitCPU $m.limitMemory (gt (int $d.gpus) 0) }}
        limits:
          {{- with $m.limitCPU }}
          cpu: {{ include "vllm-models.quantity" . }}
          {{- end }}
          {{- with $m.limitMemory }}
          memory: {{ include "vllm-models.quantity" . }}
          {{- end }}
          {{- if gt (int $d.gpus) 0 }}
          nvidia.com/gpu: {{ int $d.podGPUs | toString | quote }}
          {{- end }}
        {{- end }}
      {{- with $ctx.Values.engine.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationMessagePolicy: FallbackToLogsOnError
      volumeMounts:
        - name: {{ $cacheVolume }}
          mountPath: {{ $hfHome }}
        - name: dshm
          mountPath: /dev/shm
  volumes:
    {{- if eq $d.cacheMode "shared" }}
    - name: {{ $cacheVolume }}
      persistentVolumeClaim:
        claimName: {{ $m.existingClaim | default (include "vllm-models.model.cacheClaimName" (dict "context" $ctx "model" $m)) }}
    {{- end }}
    - name: dshm
      emptyDir:
        medium: Memory
        sizeLimit: {{ include "vllm-models.quantity" $m.shmSize }}
{{- end -}}
