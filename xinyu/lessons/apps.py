from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "xinyu.lessons"
    verbose_name = "Psych classes (心理健康课)"
