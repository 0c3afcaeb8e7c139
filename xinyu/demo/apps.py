from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "xinyu.demo"
    label = "demo"
    verbose_name = "Demo district"
