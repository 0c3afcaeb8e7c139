from django.urls import path

from . import views

app_name = "studentfile"
urlpatterns = [
    path("students/<uuid:uid>/reason/", views.reason, name="reason"),
    path("file-reasons/", views.reasoned_reads, name="reasons"),
]
