from __future__ import annotations

# A fixed report, built by hand, that every reporter golden test renders: deterministic (no dates that drift, no
# random serials) and covering every shape a finding takes.
from types import MappingProxyType

from creds_lint.findings import ConfigurationNote, FileError, Finding, Report, Severity
from creds_lint.origin import Origin
from creds_lint.rules import CATALOGUE

NEW = Origin(path="deploy/creds.yml")
OLD = Origin(path="deploy/creds.yml", rev="HEAD")

FINDINGS = (
    Finding(
        rule="regenerated-ca",
        code="CL204",
        severity=Severity.ERROR,
        file=NEW,
        old_file=OLD,
        variable="default_ca",
        field="certificate",
        line=12,
        message=(
            "default_ca (CA) was regenerated with a new key pair (CN=ca, serial 4ec59b6dd8d6892b…, expires "
            "2027-11-25 -> CN=ca, serial f4022cac4598714e…, expires 2027-11-25): every certificate it signed and "
            "every VM and client that trusts it stop working. Restore the old CA from version control."
        ),
        details=MappingProxyType(
            {
                "old_fingerprint": "sha256:f7547caf",
                "old_subject": "CN=ca,O=Cloud Foundry,C=US",
                "old_serial": "4ec59b6dd8d6892b",
                "new_fingerprint": "sha256:ba853511",
                "new_subject": "CN=ca,O=Cloud Foundry,C=US",
                "new_serial": "f4022cac4598714e",
            }
        ),
    ),
    Finding(
        rule="removed-encryption-key",
        code="CL101",
        severity=Severity.ERROR,
        file=NEW,
        old_file=OLD,
        variable="credhub_encryption_password",
        line=None,
        old_line=40,
        message=(
            "credhub_encryption_password (encryption key) was removed: BOSH will generate a new one on the next "
            "deploy and data encrypted with the old one can no longer be decrypted. Restore the old value from "
            "version control before the next deploy."
        ),
        details=MappingProxyType({"old_fingerprint": "sha256:6b87817d"}),
    ),
    Finding(
        rule="removed-certificate",
        code="CL105",
        severity=Severity.WARNING,
        file=NEW,
        old_file=OLD,
        variable="director_ssl",
        old_line=51,
        message="director_ssl (certificate) was removed: bosh will re-issue it from its CA on the next deploy.",
    ),
    Finding(
        rule="regenerated-password",
        code="CL202",
        severity=Severity.ERROR,
        file=NEW,
        old_file=OLD,
        variable="hm_password",
        line=60,
        message="hm_password (password) has a new value (sha256:0a1b2c3d -> sha256:4e5f6a7b).",
        allowed=True,
        reason="documented as safe to regenerate, ticket OPS-42: rotated with the director",
    ),
    Finding(
        rule="added-variable",
        code="CL107",
        severity=Severity.INFO,
        file=NEW,
        old_file=OLD,
        variable="uaa_ssl",
        line=75,
        message="uaa_ssl (certificate) was added.",
    ),
    Finding(
        rule="duplicate-key",
        code="CL302",
        severity=Severity.ERROR,
        file=Origin(path="other dir/creds,1.yml"),
        variable="admin_password",
        line=3,
        message="admin_password appears 2 times (lines 3, 9): bosh uses the last one. 100% sure: see\nline 9.",
    ),
)

REPORT = Report(
    rules=CATALOGUE,
    findings=FINDINGS,
    errors=(FileError(file=Origin(path="broken/creds.yml"), message="not valid YAML: line 3, column 1"),),
    files=3,
    configuration=ConfigurationNote(
        file=".creds-lint.yml",
        off=("regenerated-encryption-key",),
        lowered=MappingProxyType({"removed-ca": Severity.WARNING}),
    ),
)
