from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "xinyu.org"
    label = "org"
    verbose_name = "Organisation"
