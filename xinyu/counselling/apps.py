from django.apps import AppConfig


class CounsellingConfig(AppConfig):
    name = "xinyu.counselling"
    label = "counselling"
