"""A model wider than one node in a real API server: the LeaderWorkerSet CRD (vendored from sigs.k8s.io/lws
by hack/vendor-crds) installed into the cluster admits, field for field, the LeaderWorkerSet `helm install`
renders, and the model's Service selects only the group's leader.

No LeaderWorkerSet controller runs here: what is proven is the API (admission and what is stored), not
the pods the controller would create.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from tests.cluster.conftest import installed_crds
from tests.cluster.release import Release
from tests.cluster.test_external_secrets import kept

pytestmark = pytest.mark.cluster

GROUP = "leaderworkerset.x-k8s.io"
KIND = "LeaderWorkerSet"


@pytest.fixture(scope="module")
def lws_crd(kubeconfig: str) -> Iterator[None]:
    """The vendored LeaderWorkerSet CRD."""
    with installed_crds(kubeconfig, [(GROUP, KIND)]):
        yield


def test_a_sixteen_gpu_model_installs_as_a_leader_worker_set_the_api_server_admits(
    lws_crd: None, release: Release
) -> None:
    model = {
        "name": "wide", "modelURL": "org/wide", "gpusPerNode": 8, "requestCPU": 1, "requestMemory": "1Gi",
        "pvcStorage": "1Gi", "vllmConfig": {"tensorParallelSize": 8, "pipelineParallelSize": 2},
    }  # fmt: skip
    result = release.upgrade([model], wait=False)
    assert result.returncode == 0, result.stderr

    manifest = release.helm("get", "manifest", release.name).stdout
    (rendered,) = [o for o in yaml.safe_load_all(manifest) if o and o["kind"] == KIND]
    (stored,) = release.objects(f"leaderworkersets.{GROUP}")
    # The API server prunes fields its schema does not know, silently (and adds its defaults): every
    # rendered field stored as rendered means it knew them all.
    assert kept(rendered["spec"], stored["spec"]), f"stored {stored['spec']}"
    lwt = stored["spec"]["leaderWorkerTemplate"]
    assert lwt["size"] == 2
    for template in (lwt["leaderTemplate"], lwt["workerTemplate"]):
        (engine,) = template["spec"]["containers"]
        assert engine["resources"]["limits"]["nvidia.com/gpu"] == "8"

    (service,) = release.objects("services", "vllm-models.io/model=wide")
    assert service["spec"]["selector"]["vllm-models.io/role"] == "leader"
    # one Service, no Deployment or StatefulSet for the model: the group is the LeaderWorkerSet's
    assert not release.objects("deployments,statefulsets", "vllm-models.io/model=wide")
