"""The cluster tier leaves a user's cluster and release exactly as it found them.

The witness is the quickstart's own cluster when one is running (`./hack/quickstart` then `./hack/test`,
the README's order); otherwise the tier starts one the way the quickstart does (a local control plane
named `vllm-models`, `models.example.yaml` deployed by `just vllm::upgrade`) before any other cluster test
runs. This test runs last: every other cluster test has had its chance to touch it.
"""

from __future__ import annotations

import pytest

from tests.cluster.conftest import UserCluster, snapshot

pytestmark = pytest.mark.cluster


def test_user_release_and_its_caches_are_untouched_by_the_tier(user_cluster: UserCluster) -> None:
    after = snapshot(user_cluster.kubeconfig)
    assert after == user_cluster.before, (
        f"the cluster tier changed the user's cluster ({user_cluster.kubeconfig}): "
        f"{sorted(set(after.items()) ^ set(user_cluster.before.items()))}"
    )
    releases = [k for k in after if k[0] == "helm-release"]
    caches = [k for k in after if k[0] == "PersistentVolumeClaim"]
    assert releases and caches, f"the witness holds no release or no weight cache: {sorted(after)}"
