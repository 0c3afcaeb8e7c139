from django.urls import include, path

urlpatterns = [
    path("", include("xinyu.web.urls")),
]
