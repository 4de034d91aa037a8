"""Policy engines, bundles and Rego unit tests.

Load a bundle with :func:`load_bundle`, enforce it with an engine (:class:`EmbeddedEngine`
by default) through the :class:`PolicyEngine` interface, and check it with
:func:`run_policy_tests`.
"""

from gateway.policy.bundle import PolicyBundle, build_bundle, bundle_revision, load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.engine import PolicyEngine
from gateway.policy.errors import BundleError, PolicyError, PolicyLoadError
from gateway.policy.testing import TestReport, TestResult, run_policy_tests

__all__ = [
    "BundleError",
    "EmbeddedEngine",
    "PolicyBundle",
    "PolicyEngine",
    "PolicyError",
    "PolicyLoadError",
    "TestReport",
    "TestResult",
    "build_bundle",
    "bundle_revision",
    "load_bundle",
    "run_policy_tests",
]
