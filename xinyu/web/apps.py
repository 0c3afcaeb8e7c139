from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "xinyu.web"
    label = "web"
