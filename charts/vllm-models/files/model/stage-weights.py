# Pre-stage the weights, and the model's LoRA adapters, into the cache so the engine can start offline
# (HF_HUB_OFFLINE=1). A repo completed before (marker file) makes no request to the hub; an interrupted
# download resumes (huggingface_hub keeps whole 10 MiB chunks, so a large file goes on from the last one);
# a wrong id or revision exits non-zero with the hub's own message, which is also the pod's termination
# message. Each adapter is linked at the path the engine's --lora-modules names, so the engine reads the
# staged snapshot of exactly the pinned revision.
import json
import os
import sys

from huggingface_hub import HfApi, snapshot_download

marker_dir = os.path.join(os.environ["HF_HOME"], "vllm-models-staged")


def fail(msg):
    print(msg, file=sys.stderr, flush=True)
    try:
        with open(os.environ["TERMINATION_MESSAGE_PATH"], "w") as f:
            f.write(msg[:4000])
    except OSError:
        pass
    sys.exit(1)


def stage(repo, revision):
    ref = f"{repo}@{revision or 'default'}"
    marker = os.path.join(marker_dir, ref.replace("/", "--"))
    if os.path.exists(marker):
        try:
            path = snapshot_download(repo, revision=revision, local_files_only=True)
            print(f"{ref} already staged at {path}", flush=True)
            return path
        except Exception as e:
            print(f"{ref}: cache incomplete ({type(e).__name__}), downloading again", flush=True)
    print(f"downloading {ref} into {os.environ['HF_HOME']}", flush=True)
    try:
        # ask the hub first: a wrong id, revision or a gated repo fails here with its message,
        # and a partial cache is never taken for a complete one while the hub is unreachable
        HfApi().repo_info(repo, revision=revision)
        path = snapshot_download(repo, revision=revision)
    except Exception as e:
        fail(f"cannot stage {ref}: {type(e).__name__}: {e}")
    os.makedirs(marker_dir, exist_ok=True)
    with open(marker, "w") as f:
        f.write(path + "\n")
    print(f"staged {ref} at {path}", flush=True)
    return path


def link(path, target):
    # relative, so the link holds wherever the volume is mounted; replaced atomically on a new revision
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".new"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(os.path.relpath(target, os.path.dirname(path)), tmp)
    os.replace(tmp, path)


if os.environ.get("MODEL_ID"):
    stage(os.environ["MODEL_ID"], os.environ.get("MODEL_REVISION") or None)
for adapter in json.loads(os.environ.get("LORA_ADAPTERS") or "[]"):
    link(adapter["path"], stage(adapter["source"], adapter.get("revision") or None))
    print(f"adapter {adapter['name']} linked at {adapter['path']}", flush=True)
