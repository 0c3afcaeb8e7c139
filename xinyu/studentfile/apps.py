from django.apps import AppConfig


class StudentFileConfig(AppConfig):
    name = "xinyu.studentfile"
    verbose_name = "The student's file (一人一档)"
