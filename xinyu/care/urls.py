from django.urls import path

from . import views

app_name = "care"

urlpatterns = [
    path("warnings/", views.warnings, name="warnings"),
    path("warnings/<uuid:uid>/", views.warning_detail, name="warning"),
    path("warnings/<uuid:uid>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<uuid:uid>/done/", views.task_done, name="task_done"),
]
