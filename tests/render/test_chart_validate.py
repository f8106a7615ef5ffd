"""Every object of every example and scenario is valid Kubernetes (strict OpenAPI) for 1.30 and the pinned
minor."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
from render_helpers import CHART, FIXTURES, K8S_VERSIONS, strict_errors

pytestmark = pytest.mark.render

SCENARIOS = sorted(FIXTURES.glob("*.yaml")) + sorted((CHART / "ci").glob("*-values.yaml"))


@pytest.mark.parametrize("values", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_objects_validate_strictly(render, values: Path, version: str) -> None:
    r = render(values)
    assert r.returncode == 0, r.stderr
    assert r.objects, "nothing rendered"
    errors = strict_errors(r.objects, version)
    assert not errors, "\n".join(errors)


def test_strict_validation_catches_unknown_fields() -> None:
    """The check above would be worthless if strict mode let a typo through."""
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"prots": []}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSIONS[-1], strict=True)
