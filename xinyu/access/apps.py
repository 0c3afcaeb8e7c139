from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "xinyu.access"
    label = "access"
