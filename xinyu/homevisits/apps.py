from django.apps import AppConfig


class HomevisitsConfig(AppConfig):
    name = "xinyu.homevisits"
    verbose_name = "Home visits (家访)"
