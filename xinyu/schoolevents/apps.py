from django.apps import AppConfig


class SchooleventsConfig(AppConfig):
    name = "xinyu.schoolevents"
    verbose_name = "Psych committee members and the school's yearly events (心理委员与学校活动)"
