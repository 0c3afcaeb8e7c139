from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "xinyu.compliance"
    verbose_name = "Compliance (达标评估)"
