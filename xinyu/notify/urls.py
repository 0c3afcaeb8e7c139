from django.urls import path

from . import views

app_name = "notify"

urlpatterns = [path("", views.inbox, name="inbox")]
