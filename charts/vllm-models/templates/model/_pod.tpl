{{/*
vllm-models.model.podTemplate: the engine pod of one model, shared by its Deployment and StatefulSet.
Call with (dict "context" $ "model" $m) where $m is an entry of vllm-models.models. A Deployment mounts
the model's one cache claim; a StatefulSet gets the `cache` volume from its volumeClaimTemplates.
*/}}
{{- define "vllm-models.model.podTemplate" -}}
{{- $ctx := .context -}}
{{- $m := .model -}}
{{- $d := $m.derived -}}
{{- $cacheVolume := include "vllm-models.model.cacheVolumeName" $ctx -}}
{{- $image := printf "%s:%s" $d.image.repository $d.image.tag -}}
{{- $hfHome := $ctx.Values.engine.cacheMountPath -}}
metadata:
  labels:
    {{- include "vllm-models.labels" (dict "context" $ctx "component" "engine" "model" $m "pod" true) | nindent 4 }}
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
  {{- $stage := and $ctx.Values.engine.stageWeights.enabled (not $d.localPath) }}
  {{- if $stage }}
  initContainers:
    - name: stage-weights
      image: {{ $image | quote }}
      imagePullPolicy: {{ $d.image.pullPolicy }}
      command:
        - python3
        - -c
        - |
          # Pre-stage the weights into the cache so the engine can start offline (HF_HUB_OFFLINE=1).
          # A cache completed before (marker file) makes no request to the hub; an interrupted download
          # resumes (huggingface_hub keeps whole 10 MiB chunks, so a large file goes on from the last
          # one); a wrong model id or revision exits non-zero with the hub's own message, which is also
          # the pod's termination message.
          import os, sys
          from huggingface_hub import HfApi, snapshot_download
          repo = os.environ["MODEL_ID"]
          revision = os.environ.get("MODEL_REVISION") or None
          ref = f"{repo}@{revision or 'default'}"
          marker_dir = os.path.join(os.environ["HF_HOME"], "vllm-models-staged")
          marker = os.path.join(marker_dir, ref.replace("/", "--"))
          if os.path.exists(marker):
              try:
                  path = snapshot_download(repo, revision=revision, local_files_only=True)
                  print(f"{ref} already staged at {path}", flush=True)
                  sys.exit(0)
              except Exception as e:
                  print(f"{ref}: cache incomplete ({type(e).__name__}), downloading again", flush=True)
          print(f"downloading {ref} into {os.environ['HF_HOME']}", flush=True)
          try:
              # ask the hub first: a wrong id, revision or a gated repo fails here with its message,
              # and a partial cache is never taken for a complete one while the hub is unreachable
              HfApi().repo_info(repo, revision=revision)
              path = snapshot_download(repo, revision=revision)
          except Exception as e:
              msg = f"cannot stage {ref}: {type(e).__name__}: {e}"
              print(msg, file=sys.stderr, flush=True)
              try:
                  with open(os.environ["TERMINATION_MESSAGE_PATH"], "w") as f:
                      f.write(msg[:4000])
              except OSError:
                  pass
              sys.exit(1)
          os.makedirs(marker_dir, exist_ok=True)
          with open(marker, "w") as f:
              f.write(path + "\n")
          print(f"staged {ref} at {path}", flush=True)
      env:
        - name: MODEL_ID
          value: {{ $m.modelURL | quote }}
        {{- with $m.revision }}
        - name: MODEL_REVISION
          value: {{ . | quote }}
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
        {{- range $d.args }}
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
      resources:
        requests:
          cpu: {{ include "vllm-models.quantity" $m.requestCPU }}
          memory: {{ include "vllm-models.quantity" $m.requestMemory }}
          {{- if gt (int $d.gpus) 0 }}
          nvidia.com/gpu: {{ int $d.gpus | toString | quote }}
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
          nvidia.com/gpu: {{ int $d.gpus | toString | quote }}
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
    {{- if eq $d.kind "Deployment" }}
    - name: {{ $cacheVolume }}
      persistentVolumeClaim:
        claimName: {{ $m.existingClaim | default (include "vllm-models.model.cacheClaimName" (dict "context" $ctx "model" $m)) }}
    {{- end }}
    - name: dshm
      emptyDir:
        medium: Memory
        sizeLimit: {{ include "vllm-models.quantity" $m.shmSize }}
{{- end -}}
