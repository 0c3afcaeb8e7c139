"""Certificates in the demo district (order 27, after the training part at 25): the district
admin issues every certificate due in the district's finished programmes (the B programme:
those who passed with ≥ 80 hours get a B certificate; the one at 79.5 hours and the one who
failed do not), through the same bulk service as the issue button. The C programme still in
progress issues nothing yet."""

from __future__ import annotations

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.models import Role, RoleAssignment

from . import certificates
from .models import Programme, ProgrammeStatus


@demo_builder("certificates", order=27)
def demo_certificates(run: DemoRun) -> str | None:
    district = run.district
    if district is None:
        return None
    admin = (
        RoleAssignment.objects.filter(district=district, role=Role.DISTRICT_ADMIN, school__isnull=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if admin is None:
        return None
    issued = 0
    for programme in Programme.objects.filter(district=district, status=ProgrammeStatus.FINISHED).exclude(
        certificate_rule=""
    ):
        issued += len(certificates.issue_due(by=admin.user, programme=programme))
    return f"Certificates: {issued} issued from the finished programmes."
