from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "xinyu.care"
    label = "care"
    verbose_name = "Care"
